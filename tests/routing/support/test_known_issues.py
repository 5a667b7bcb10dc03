"""Known issues: who may create, link and close them; the matching rule; the product's banner
API; closing the loop once per ticket, even when two people mark it fixed at once."""

import itertools

import pytest
from django.contrib.auth import get_user_model

from opsconsole.actions.services import run_action
from opsconsole.errors import Conflict, PermissionRefused
from opsconsole.models import OutboxMessage
from routing.models import KnownIssue, KnownIssueLink, TicketNotice
from routing.services import ticket_intake
from routing.support.services.known_issues import known_issue_close, known_issue_create, known_issue_link
from tests.helpers.race import run_together

_keys = itertools.count(1)


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def run(name, issue, user, params=None):
    return run_action(
        name=name, target=issue, actor=_fresh(user), params=params or {}, idempotency_key=f"k{next(_keys)}"
    )


@pytest.fixture
def issue(make_user):
    return known_issue_create(
        title="Imports time out over 50k rows",
        customer_message="Large imports now finish.",
        workaround="Split the file in two.",
        error_codes=["import_timeout"],
        feature_areas=["import"],
        actor=make_user("support"),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,allowed",
    [("support", True), ("engineering", True), ("ops_lead", True), ("billing", False), ("leadership", False)],
)
def test_who_may_create_and_link(role, allowed, make_user, intake):
    user = make_user(role)
    ticket = intake()
    if allowed:
        issue = known_issue_create(title="Export is slow", actor=user, tickets=[ticket])
        assert known_issue_link(known_issue=issue, ticket=intake(), actor=user) is True
        assert issue.links.count() == 2
    else:
        with pytest.raises(PermissionRefused):
            known_issue_create(title="Export is slow", actor=user)
        other = KnownIssue.objects.create(title="x")
        with pytest.raises(PermissionRefused):
            known_issue_link(known_issue=other, ticket=ticket, actor=user)
        assert not KnownIssueLink.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["support", "billing"])
def test_support_may_not_close_a_known_issue(role, make_user, issue):
    with pytest.raises(PermissionRefused):
        known_issue_close(known_issue=issue, status="wont_fix", actor=make_user(role))
    issue.refresh_from_db()
    assert issue.status == "investigating"


@pytest.mark.django_db
def test_matching_error_code_links_new_tickets_automatically(issue, intake):
    matching = intake(error_code="import_timeout")
    same_area_only = intake(feature_area="import")
    assert KnownIssueLink.objects.get(ticket=matching).automatic is True
    assert not KnownIssueLink.objects.filter(ticket=same_area_only).exists()


@pytest.mark.django_db
def test_marking_fixed_tells_each_requester_once(zendesk, issue, intake, make_user):
    tickets = [intake(external_id=str(900 + i), error_code="import_timeout") for i in range(3)]
    stripe_ticket = intake(source="stripe", external_id="payment_failed:x", error_code="import_timeout")
    lead = make_user("ops_lead")
    outcome = run("mark_known_issue_fixed", issue, lead, {"release": "2026.12.1"})
    assert outcome.run.result["requesters_told"] == 4
    issue.refresh_from_db()
    assert (issue.status, issue.fixed_in.version) == ("fixed", "2026.12.1")
    replies = OutboxMessage.objects.filter(destination="helpdesk", command="helpdesk.reply")
    assert sorted(m.payload["external_id"] for m in replies) == [t.external_id for t in tickets]
    assert (
        "2026.12.1" in replies[0].payload["body"]
        and "Large imports now finish." in replies[0].payload["body"]
    )
    # the stripe ticket has no help desk to reply through, but its page notes the notice
    assert TicketNotice.objects.filter(ticket=stripe_ticket).count() == 1
    with pytest.raises(Conflict):
        run("mark_known_issue_fixed", issue, lead, {"release": "2026.12.1"})
    # closing again through the service adds nothing either
    assert known_issue_close(known_issue=issue, status="fixed", release=issue.fixed_in, actor=lead) == []
    assert TicketNotice.objects.count() == 4 and replies.count() == 3


@pytest.mark.django_db
def test_wont_fix_says_so_with_the_workaround(issue, intake, make_user):
    intake(external_id="77", error_code="import_timeout")
    run("mark_known_issue_wont_fix", issue, make_user("engineering"))
    notice = TicketNotice.objects.get()
    assert notice.kind == "wont_fix"
    assert "decided not to change" in notice.body and "Split the file in two." in notice.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_mark_fixed_sends_once_per_ticket(zendesk, make_user, system):
    issue = KnownIssue.objects.create(title="Imports time out", error_codes=["import_timeout"])
    for i in range(4):
        ticket_intake(
            source="zendesk",
            external_id=str(500 + i),
            requester_email=f"c{i}@customer.example",
            subject="Import stuck",
            body="",
            error_code="import_timeout",
            actor=system,
        )
    leads = [make_user("ops_lead"), make_user("engineering")] * 3

    def mark(i):
        try:
            run("mark_known_issue_fixed", issue, leads[i], {"release": "2026.12.1"})
            return "ran"
        except Conflict:
            return "refused"

    results = run_together(6, mark)
    assert results.count("ran") == 1, results
    assert TicketNotice.objects.count() == 4
    assert OutboxMessage.objects.filter(command="helpdesk.reply").count() == 4
    # delivered after commit (Celery runs eagerly here): one public reply per ticket
    assert sorted(tid for tid, _ in zendesk.comments) == ["500", "501", "502", "503"]


@pytest.mark.django_db
def test_known_issues_api_filters_by_status(api_client_for, issue, make_user):
    KnownIssue.objects.create(title="Old", status="fixed_in_progress".replace("fixed_", "fix_"))
    api = api_client_for("product")
    everything = api.get("/api/v1/known-issues/").json()
    assert {row["title"] for row in everything} == {"Imports time out over 50k rows", "Old"}
    only = api.get("/api/v1/known-issues/?status=investigating").json()
    assert [row["title"] for row in only] == ["Imports time out over 50k rows"]
    assert set(only[0]) == {
        "id",
        "title",
        "status",
        "customer_message",
        "workaround",
        "release",
        "reason_codes",
        "feature_areas",
    }
    bad = api.get("/api/v1/known-issues/?status=solved")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_status"
    assert api_client_for("analytics").get("/api/v1/known-issues/").status_code == 403


@pytest.mark.django_db
def test_the_add_page_creates_a_known_issue_through_the_service(console_for):
    client = console_for("engineering")
    form = {
        "title": "Exports stall at 99%",
        "ticket_type": "bug",
        "customer_message": "",
        "workaround": "",
        "wont_fix_message": "",
        "reason_codes": "",
        "feature_areas": "export",
        "error_codes": "",
        "owner": "",
    }  # auto_link unticked
    response = client.post("/routing/knownissue/add/", form)
    assert response.status_code == 302, response.content.decode()[:500]
    created = KnownIssue.objects.get(title="Exports stall at 99%")
    assert (created.auto_link, created.feature_areas) == (False, ["export"])
