"""The cost model's arithmetic against hand-computed values, and who may edit its inputs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.billing.stripe_events import stripe_event_record
from accounts.services import EventInput, account_events_record, exception_resolve
from opsconsole.errors import PermissionRefused, ValidationFailed
from reports.costs.selectors import channel_costs, cost_inputs, savings, savings_sentence
from reports.costs.services import channel_spend_set, cost_settings_update
from reports.models import CostSettings
from routing.services import ticket_intake

pytestmark = pytest.mark.django_db


def _activate(account, system):
    at = account.signed_up_at + timedelta(hours=1)
    events = [
        EventInput(event_id=f"{account.external_id}:{t}", type=t, occurred_at=at)
        for t in ("workspace.provisioned", "integration.connected", "report.viewed")
    ]
    account_events_record(account=account, events=events, actor=system)


def _costs_of(channels, lead, make_account, system):
    """Each (channel, monthly spend, signups, activated) set up; the cost rows of the last 30 days."""
    for channel, spend, signups, activated in channels:
        channel_spend_set(channel=channel, monthly_spend_cents=spend, actor=lead)
        for i in range(signups):
            account = make_account(channel=channel, signed_up_at=timezone.now() - timedelta(hours=2))
            if i < activated:
                _activate(account, system)
    today = timezone.now().date()
    return channel_costs(since=today - timedelta(days=29), until=today + timedelta(days=1))


def _stripe(event_id, type_, customer, **amounts):
    return {
        "id": event_id,
        "type": type_,
        "created": int(timezone.now().timestamp()),
        "data": {"object": {"id": f"ch_{event_id}", "customer": customer, **amounts}},
    }


def test_cost_per_signup_and_per_activated_account_by_hand(
    make_user, make_channel, make_account, hit, system
):
    partner = make_channel("partner", kind="partner")
    accounts = [
        make_account(channel=partner, signed_up_at=timezone.now() - timedelta(hours=2)) for _ in range(4)
    ]
    for account in accounts[:2]:
        _activate(account, system)
    exception = hit(accounts[2], "import_failed")
    exception_resolve(exception=exception, note="re-ran it", actor=make_user("support"))  # 20 min
    for n in range(2):
        ticket_intake(
            source="zendesk",
            external_id=f"t{n}",
            requester_email="a@example.com",
            subject="help",
            body="",
            account_external_id=accounts[3].external_id,
            actor=system,
        )
    type(accounts[3]).objects.filter(pk=accounts[3].pk).update(stripe_customer_id="cus_1")
    stripe_event_record(
        event=_stripe("evt_r", "charge.refunded", "cus_1", amount_refunded=5_000),
        via="webhook",
        dispatch=False,
        actor=system,
    )
    stripe_event_record(
        event=_stripe("evt_d", "charge.dispute.created", "cus_1", amount=2_000),
        via="webhook",
        dispatch=False,
        actor=system,
    )
    lead = make_user("ops_lead")
    channel_spend_set(channel=partner, monthly_spend_cents=60_000, actor=lead)
    today = timezone.now().date()

    (row,) = [
        r
        for r in channel_costs(since=today - timedelta(days=29), until=today + timedelta(days=1))
        if r.channel == "partner"
    ]

    assert (row.signups, row.activated) == (4, 2)
    assert row.spend_cents == 60_000  # 30 days = one month
    assert row.cost_per_signup_cents == 15_000
    assert row.cost_per_activated_cents == 30_000
    assert (row.manual_minutes, row.manual_cents) == (20, 1_833)  # 20 min x $55/h
    assert (row.tickets, row.tickets_cents) == (2, 2_200)  # 2 x 12 min x $55/h
    assert row.refunds_disputes_cents == 5_000 + 2_000 + 1_500  # refund, dispute, dispute fee
    assert row.operating_cents == 12_533  # 1,833.33 + 2,200 + 8,500
    assert row.cost_per_activated_with_operating_cents == 36_267  # (60,000 + 12,533.33) / 2


def test_savings_sentence_by_hand():
    found = savings(minutes=10, signups=120, days=30, support_hour_cents=5_500)
    # 10 min x 120 accounts a month = 20 h; 20 h x $55 = $1,100.
    assert found == {"minutes": 10, "monthly_accounts": 120, "hours": 20.0, "cents": 110_000}
    assert savings_sentence(found) == (
        "Reducing manual setup by 10 minutes across 120 monthly accounts saves 20 hours = $1,100.00 a month."
    )


def test_cheap_per_signup_but_expensive_per_activation_is_flagged_and_sorted_first(
    make_user, make_channel, make_account, system
):
    lead = make_user("ops_lead")
    cheap = make_channel("cheap", kind="partner")
    dear = make_channel("dear", kind="paid_search")
    middle = make_channel("middle", kind="organic")
    # cheap: $100 / 10 signups = $10 each, 1 activated -> $100 per activated.
    # dear: $600 / 4 signups = $150 each, 4 activated -> $150; middle: $200 / 5 = $40, 5 -> $40.
    rows = _costs_of(
        [(cheap, 10_000, 10, 1), (dear, 60_000, 4, 4), (middle, 20_000, 5, 5)], lead, make_account, system
    )

    by_code = {r.channel: r for r in rows}
    assert by_code["cheap"].cheap_signup_expensive_activation
    assert not by_code["dear"].cheap_signup_expensive_activation
    assert not by_code["middle"].cheap_signup_expensive_activation
    assert [r.channel for r in rows][:3] == ["dear", "cheap", "middle"]


def test_spend_with_no_activated_account_is_the_most_expensive_and_badged(
    console_for, make_user, make_channel, make_account, system
):
    lead = make_user("ops_lead")
    dead = make_channel("dead", kind="paid_social")
    dear = make_channel("dear", kind="paid_search")
    cheap = make_channel("cheap", kind="organic")
    # dead: $50 / 10 signups = $5 each (the cheapest per signup), none activated: infinite.
    # dear: $600 / 4 = $150, 1 activated -> $600; cheap: $100 / 5 = $20, 5 activated -> $20.
    rows = _costs_of(
        [(dead, 5_000, 10, 0), (dear, 60_000, 4, 1), (cheap, 10_000, 5, 5)], lead, make_account, system
    )

    by_code = {r.channel: r for r in rows}
    assert [r.channel for r in rows][:3] == ["dead", "dear", "cheap"]
    assert by_code["dead"].no_activation and by_code["dead"].cost_per_activated_with_operating_cents is None
    assert by_code["dead"].cheap_signup_expensive_activation  # $5 per signup, infinite per activation
    assert not by_code["dear"].no_activation and not by_code["cheap"].cheap_signup_expensive_activation
    # A channel with no spend and nothing activated is not infinitely expensive: it has no figure.
    assert not any(r.no_activation for r in rows if r.channel not in ("dead",))
    html = console_for("ops_lead").get(reverse("admin:reports_constraints_costs")).content.decode()
    assert "spend, no activated account" in html and "∞" in html


def test_only_an_ops_lead_edits_the_inputs_and_history_keeps_them(make_user, channel):
    assert cost_inputs().support_hour_cents == 5_500  # the default, never saved
    lead = make_user("ops_lead")
    cost_settings_update(support_hour_cents=6_000, minutes_per_ticket=15, actor=lead)
    cost_settings_update(support_hour_cents=6_500, actor=lead)
    for role in ("support", "leadership", "billing"):
        with pytest.raises(PermissionRefused):
            cost_settings_update(support_hour_cents=1, actor=make_user(role))
        with pytest.raises(PermissionRefused):
            channel_spend_set(channel=channel, monthly_spend_cents=1, actor=make_user(role))
    with pytest.raises(ValidationFailed):
        cost_settings_update(support_hour_cents=-5, actor=lead)
    with pytest.raises(ValidationFailed):
        cost_settings_update(lunch_minutes=5, actor=lead)

    assert (cost_inputs().support_hour_cents, cost_inputs().minutes_per_ticket) == (6_500, 15)
    history = list(
        CostSettings.history.order_by("history_date").values_list("support_hour_cents", "history_user")
    )
    assert [value for value, _ in history][-2:] == [6_000, 6_500]
    assert {user for _, user in history} == {lead.pk}
