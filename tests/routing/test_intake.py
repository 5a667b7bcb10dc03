from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import EventInput, account_events_record, exception_open
from opsconsole.errors import ValidationFailed
from opsconsole.models import Runbook
from routing import services
from routing.choices import DecisionKind, EscalationKind, TicketStatus
from routing.models import Escalation, RoutingDecision, Ticket
from tests.helpers.race import run_together


@pytest.mark.django_db
def test_intake_routes_through_catch_all_and_records_decision(intake, triage_queue, system):
    ticket = intake(subject="How do I export?")
    assert ticket.queue == triage_queue
    assert ticket.category == "documentation" and ticket.severity == "sev4"
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.kind == DecisionKind.RULE and decision.rule.is_default
    assert "catch-all" in decision.reason
    assert ticket.intake_result["rule"]["key"] == "catch-all"
    assert ticket.intake_result["sla"]["policy"] == "sev4 general"
    assert ticket.history.first().history_user == system


@pytest.mark.django_db
def test_intake_repeat_returns_first_ticket_untouched(system):
    first, created = services.ticket_intake(
        source="zendesk",
        external_id="77",
        requester_email="a@b.example",
        subject="One",
        body="",
        actor=system,
    )
    again, created_again = services.ticket_intake(
        source="zendesk",
        external_id="77",
        requester_email="a@b.example",
        subject="Two",
        body="",
        actor=system,
    )
    assert created and not created_again
    assert again.pk == first.pk and again.subject == "One"
    assert Ticket.objects.count() == 1 and RoutingDecision.objects.count() == 1


@pytest.mark.django_db
def test_same_external_id_from_another_source_is_another_ticket(intake):
    a = intake(source="zendesk", external_id="1")
    b = intake(source="email", external_id="1")
    assert a.pk != b.pk


# serialized_rollback: the flush after a transactional test would drop the rows the migrations
# seed (queues, the catch-all rule, reason codes) that later tests rely on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicate_intake_makes_one_ticket(system, django_db_blocker):
    # Warm the compiled-rules cache and the system user outside the race.
    services.ticket_intake(
        source="warm", external_id="0", requester_email="w@x.example", subject="w", body="", actor=system
    )

    def submit(_):
        ticket, created = services.ticket_intake(
            source="zendesk",
            external_id="race-1",
            requester_email="r@x.example",
            subject="Race",
            body="",
            actor=system,
        )
        return ticket.pk, created

    results = run_together(6, submit)
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    ticket = Ticket.objects.get(source="zendesk", external_id="race-1")
    assert ticket.decisions.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value,code_field",
    [
        ("requester_email", "not-an-email", "requester_email"),
        ("subject", "   ", "subject"),
        ("external_id", "", "external_id"),
        ("source", "x" * 41, "source"),
        ("error_code", "e" * 65, "error_code"),
    ],
)
def test_bad_intake_input_is_refused_and_writes_nothing(system, field, value, code_field):

    fields = {"source": "zendesk", "external_id": "9", "requester_email": "a@b.example", "subject": "Hi"}
    fields["body"] = ""
    fields[field] = value
    with pytest.raises(ValidationFailed) as info:
        services.ticket_intake(actor=system, **fields)
    assert info.value.code == "invalid_ticket" and code_field in info.value.extra
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_enrichment_snapshot_carries_account_context(make_account, make_channel, intake, system):
    channel = make_channel("partner-x", kind="partner", support_sla_minutes=60)
    account = make_account(channel=channel, shape="sales_assisted_business", admin_email="boss@acme.example")
    t0 = account.signed_up_at
    from datetime import timedelta

    account_events_record(
        account=account,
        events=[
            EventInput("ev-1", "workspace.provisioned", t0 + timedelta(minutes=1)),
            EventInput(
                "ev-2", "import.failed", t0 + timedelta(minutes=2), error_code="timeout", request_id="rq-1"
            ),
        ],
        actor=system,
    )
    ticket = intake(
        requester_email="other@acme.example", subject="Import broke", error_code="E42", request_id="rq-9"
    )
    assert ticket.account == account and ticket.account_match == "domain"
    ctx = ticket.context
    assert ctx["plan"] == "business" and ctx["shape"] == "sales_assisted_business"
    assert ctx["channel"] == "partner-x" and ctx["channel_sla_minutes"] == 60
    assert ctx["paid"] is True and ctx["arr_cents"] == 79_900 * 12
    assert ctx["last_failed_event"] == "import.failed" and ctx["last_failed"]["request_id"] == "rq-1"
    assert ctx["last_success_event"] == "workspace.provisioned"
    assert ctx["open_exception_codes"] == ["import_failed"] and ctx["failed_attempts"] == 1
    assert ctx["provisioning_status"] == "action_required"
    assert [e["type"] for e in ctx["recent_events"]] == [
        "import.failed",
        "workspace.provisioned",
        "account.created",
    ]
    assert ctx["error_code"] == "E42" and ctx["request_id"] == "rq-9"
    assert ctx["account_age_days"] == 0


@pytest.mark.django_db
def test_account_matched_by_external_id_then_admin_email(make_account, intake):
    a = make_account(admin_email="admin@one.example")
    b = make_account(admin_email="admin@two.example")
    assert intake(account_external_id=a.external_id, requester_email="x@gmail.com").account == a
    assert intake(requester_email="admin@two.example").account == b
    unmatched = intake(requester_email="someone@gmail.com", account_external_id="nope")
    assert unmatched.account is None and unmatched.context["unknown_account_reference"] == "nope"


@pytest.mark.django_db
def test_escalation_of_exception_with_runbook_goes_to_ops(account, system):
    exception = exception_open(account=account, reason_code="token_expired", actor=system)
    escalation = services.escalation_create(
        account=account, summary="Token keeps expiring", source_exception=exception, actor=system
    )
    assert escalation.kind == EscalationKind.OPS and escalation.queue.code == "ops"
    assert escalation.telemetry["exception"]["reason_code"] == "token_expired"
    again = services.escalation_create(
        account=account, summary="Again", source_exception=exception, actor=system
    )
    assert again.pk == escalation.pk and Escalation.objects.count() == 1


@pytest.mark.django_db
def test_escalation_of_exception_whose_runbooks_are_switched_off_goes_to_engineering(account, system):
    # A runbook counts when one is in force, not because the reason code once had one.
    for book in Runbook.objects.filter(reason_code__code="token_expired"):
        book.active = False
        book.save()
    exception = exception_open(account=account, reason_code="token_expired", actor=system)
    escalation = services.escalation_create(
        account=account, summary="Token keeps expiring", source_exception=exception, actor=system
    )
    assert escalation.kind == EscalationKind.ENGINEERING
    assert escalation.telemetry["exception"]["has_runbook"] is False


@pytest.mark.django_db
def test_unknown_defect_goes_to_engineering_with_telemetry(account, system):
    from datetime import timedelta

    account_events_record(
        account=account,
        events=[
            EventInput(f"t-{i}", "user.login", account.signed_up_at + timedelta(minutes=i)) for i in range(7)
        ],
        actor=system,
    )
    escalation = services.escalation_create(
        account=account,
        summary="500 on export",
        error_code="E500",
        request_id="rq-7",
        feature_area="export",
        actor=system,
    )
    assert escalation.kind == EscalationKind.ENGINEERING and escalation.queue.code == "engineering-triage"
    t = escalation.telemetry
    assert (t["account"], t["plan"], t["shape"], t["channel"]) == (
        account.external_id,
        account.plan,
        account.shape,
        account.channel.code,
    )
    assert len(t["last_events"]) == 5 and t["request_id"] == "rq-7" and t["feature_area"] == "export"


@pytest.mark.django_db
def test_ticket_escalation_marks_ticket_escalated(make_account, make_user, intake):
    account = make_account()
    ticket = intake(account_external_id=account.external_id)
    escalation = services.ticket_escalate(
        ticket=ticket, summary="Looks like a bug", actor=make_user("ops_lead")
    )
    ticket.refresh_from_db()
    assert escalation.ticket == ticket and ticket.status == TicketStatus.ESCALATED


@pytest.mark.django_db
def test_a_ticket_dated_beyond_clock_skew_is_refused(system):
    with pytest.raises(ValidationFailed) as info:
        services.ticket_intake(
            source="desk",
            external_id="future",
            requester_email="a@b.example",
            subject="s",
            body="",
            received_at=timezone.now() + timedelta(hours=1),
            actor=system,
        )
    assert "created_at" in info.value.extra
    assert not Ticket.objects.exists()
