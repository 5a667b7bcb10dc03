"""The step-gap funnel on constructed journeys: reached counts, median and p90 gaps (linear
interpolation, as percentile_cont), and the step where staff first stepped in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import EventInput, account_events_record
from accounts.shapes import JOURNEY_STEPS
from reports.funnel.selectors import SETUP, WORKSPACE, funnel_accounts, step_funnel
from routing.services import ticket_intake

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def _events(account, system, *pairs):
    account_events_record(
        account=account,
        events=[
            EventInput(
                event_id=f"{account.external_id}:{t}:{n}", type=t, occurred_at=account.signed_up_at + at
            )
            for n, (t, at) in enumerate(pairs)
        ],
        actor=system,
    )


def test_reached_gaps_and_first_staff_touch(make_channel, make_account, system, window):
    ch = make_channel("funnel", kind="organic")
    t0 = timezone.now() - timedelta(days=2)
    a, b, c = (make_account(channel=ch, signed_up_at=t0) for _ in range(3))
    # a: workspace after 1 h, integration at 3 h, report at 4 h: activated at 4 h, no staff.
    _events(
        a, system, ("workspace.provisioned", H), ("integration.connected", 3 * H), ("report.viewed", 4 * H)
    )
    # b: workspace after 2 h, then the import fails at 5 h: an exception, staff's first touch.
    _events(b, system, ("workspace.provisioned", 2 * H), ("import.failed", 5 * H))
    # c: a ticket half an hour in, before any workspace.
    ticket_intake(
        source="zendesk",
        external_id="c-1",
        requester_email="x@example.com",
        subject="stuck",
        body="",
        account_external_id=c.external_id,
        received_at=t0 + H / 2,
        actor=system,
    )

    steps = {s.step: s for s in step_funnel(**window, channel="funnel")}

    assert list(steps) == list(JOURNEY_STEPS)
    assert steps[JOURNEY_STEPS[0]].reached == 3
    ws = steps[WORKSPACE]
    assert ws.reached == 2
    assert (ws.median_gap_h, ws.p90_gap_h) == (1.5, 1.9)  # gaps 1 h and 2 h
    assert steps[SETUP].reached == 1 and steps[SETUP].median_gap_h == 2.0  # 3 h - workspace at 1 h
    activation = steps["activation"]
    assert activation.reached == 1 and activation.median_gap_h == 1.0  # 4 h - integration at 3 h
    assert steps["support intake"].reached == 1
    # b was waiting on its import/integration step, c on its workspace.
    assert steps[SETUP].first_staff_touch == 1 and steps[WORKSPACE].first_staff_touch == 1
    assert steps[SETUP].first_staff_touch_share == round(1 / 3, 4)
    assert sum(s.first_staff_touch for s in steps.values()) == 2
    assert list(funnel_accounts("touch", step=SETUP, **window, channel="funnel")) == [b]
    assert set(funnel_accounts("reached", step=WORKSPACE, **window, channel="funnel")) == {a, b}
