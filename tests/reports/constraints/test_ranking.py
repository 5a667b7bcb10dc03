"""The ranked constraint list: volume, share, handling minutes, risk weight and cost, checked
against hand-computed values, and a rare reason blocking enterprise activation outranking a
common minor one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opsconsole.actions.services import run_action
from reports.constraints.rules import account_weight, blocks_activation
from reports.constraints.selectors import hit_accounts, ranked_constraints
from reports.failures.selectors import leader_sentence, leader_sentences, top_failure_reasons

pytestmark = pytest.mark.django_db


def test_a_rare_reason_blocking_enterprise_activation_outranks_a_common_minor_one(make_account, hit, window):
    enterprise = make_account(shape="enterprise")
    hit(enterprise, "import_failed")  # 20 min estimate; import.succeeded is in enterprise activation
    for _ in range(20):
        hit(make_account(shape="free_trial"), "unclear_setup_step")  # 10 min, blocks nothing

    rows = ranked_constraints(**window)

    # (An enterprise signup also opens its review; it blocks no activation step.)
    order = [r.reason_code for r in rows]
    assert order.index("import_failed") < order.index("unclear_setup_step")
    assert order[0] == "import_failed"
    top, minor = (
        next(r for r in rows if r.reason_code == code) for code in ("import_failed", "unclear_setup_step")
    )
    # By hand: enterprise value 4 x (1 + $0 / 1000) x blocking 3 = 12; 1 x 20 min x 12 = 240.
    assert (top.accounts_hit, top.handling_minutes, top.risk_weight, top.cost) == (1, 20, 12, 240)
    assert top.blocking_accounts == 1
    # Free trial value 1, no MRR, not blocking: 20 x 10 min x 1 = 200.
    assert (minor.accounts_hit, minor.handling_minutes, minor.risk_weight, minor.cost) == (20, 10, 1, 200)
    assert top.share == round(1 / 21, 4) and minor.share == round(20 / 21, 4)


def test_the_weight_reads_mrr_and_the_settings(settings, make_account, hit, window):
    settings.REPORTS_CONSTRAINT_WEIGHTS = {
        "shape_value": {"self_serve_team": 2.0},
        "mrr_unit_dollars": 100,
        "blocking_factor": 5.0,
    }
    team = make_account(shape="self_serve_team")
    # MRR comes from Stripe sync; set it as the sync writes it (a save of the changed fields).
    team.mrr_cents = 19_900
    team.save(update_fields=["mrr_cents", "updated_at"])
    hit(team, "integration_failed")  # integration.connected is in self-serve activation

    (row,) = ranked_constraints(**window)

    # 2 x (1 + 199 / 100) x 5 = 29.9; cost = 1 x estimate x 29.9.
    assert row.risk_weight == pytest.approx(29.9)
    assert row.cost == pytest.approx(row.estimated_minutes * 29.9)
    assert account_weight(shape="free_trial", mrr_cents=0, blocking=False) == 1.0
    assert blocks_activation("import_data", "enterprise") and not blocks_activation(
        "import_data", "free_trial"
    )


def test_the_cohort_is_the_range_and_not_duplicates(make_account, hit, window):
    old = make_account(signed_up_at=timezone.now() - timedelta(days=45))
    hit(old, "import_failed")
    inside = make_account()
    hit(inside, "import_failed")

    (row,) = ranked_constraints(**window)

    assert row.accounts_hit == 1
    assert list(hit_accounts(reason="import_failed", **window)) == [inside]


def test_failure_reasons_of_a_channel_by_volume_with_the_sentence(make_channel, make_account, hit, window):
    partner = make_channel("northwind", name="Northwind Partners", kind="partner")
    other = make_channel("organic", kind="organic")
    for i in range(10):
        account = make_account(channel=partner, shape="free_trial")
        if i < 3:
            hit(account, "import_failed")
        if i < 1:
            hit(account, "missing_permissions")
    hit(make_account(channel=other), "workspace_failed")

    rows = top_failure_reasons(channel="northwind", **window)

    assert [(r.reason_code, r.accounts_hit, r.share) for r in rows] == [
        ("import_failed", 3, 0.3),
        ("missing_permissions", 1, 0.1),
    ]
    assert rows[0].time_cost_minutes == 3 * 20
    assert leader_sentence(rows[0], channel_name="Northwind Partners") == (
        "Data import failed affects 30% of new Northwind Partners accounts "
        "and adds 20 minutes of staff time each."
    )
    assert rows[0].runbook is not None and rows[0].fix_action


def test_measured_minutes_count_person_runs_and_resolutions_per_account_with_work(
    make_account, make_user, fail_import, window
):
    support = make_user("support")
    worked, resolved, untouched = (make_account(shape="sales_assisted_business") for _ in range(3))
    cases = {account: fail_import(account) for account in (worked, resolved, untouched)}
    for n, (account, action) in enumerate(
        [(worked, "restart_import"), (worked, "resolve_exception"), (resolved, "resolve_exception")]
    ):
        run_action(
            name=action,
            target=cases[account],
            params={"note": "done"} if action == "resolve_exception" else {},
            evidence={"note": "checked the import"},
            idempotency_key=f"m-{n}",
            actor=support,
        )

    (row,) = [r for r in ranked_constraints(**window) if r.reason_code == "import_failed"]

    # worked: restart 10 min + resolution (0 min action, 20 min estimate) = 30; resolved: 20.
    # Two accounts received staff work: (30 + 20) / 2 = 25 minutes each, measured.
    assert (row.accounts_hit, row.staff_minutes, row.measured_minutes) == (3, 50, 25.0)
    assert row.handling_minutes == 25.0 and row.estimated_minutes == 20
    assert row.cost == round(3 * 25.0 * row.risk_weight, 2)


def test_the_sentence_of_the_ranked_list_names_the_channel_hit_most(make_channel, make_account, hit, window):
    big = make_channel("big", name="Big Channel", kind="organic")
    small = make_channel("small", name="Small Channel", kind="partner")
    for channel, signups, hits in ((big, 10, 2), (small, 4, 2), (big, 0, 0)):
        for i in range(signups):
            account = make_account(channel=channel, shape="free_trial")
            if i < hits:
                hit(account, "missing_permissions")

    (row,) = [r for r in ranked_constraints(**window) if r.reason_code == "missing_permissions"]

    # Two accounts hit in each channel; the tie goes to the higher share: 2 of 4 signups.
    assert dict(row.hits_by_channel) == {big.pk: 2, small.pk: 2} and row.accounts_hit == 4
    assert "affects 50% of new Small Channel accounts" in leader_sentences([row])["missing_permissions"]
