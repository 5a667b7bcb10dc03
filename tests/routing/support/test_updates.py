"""The help desk's updates: each moves first response, solved time, reopens or CSAT, once,
in any order."""

from datetime import UTC, datetime, timedelta

import pytest

from routing.models import Ticket
from routing.services import ticket_resume, ticket_wait
from routing.support.models import TicketUpdate
from tests.helpers.race import run_together

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


def url(ticket):
    return f"/api/v1/tickets/{ticket.source}/{ticket.external_id}/updates/"


def post(api, ticket, update_id, kind, at, **extra):
    body = {"update_id": update_id, "type": kind, "occurred_at": at.isoformat(), **extra}
    return api.post(url(ticket), body, format="json")


@pytest.fixture
def ticket(intake):
    return intake(received_at=T0, via="chat")


@pytest.mark.django_db
def test_public_reply_is_the_first_response_internal_is_not(product_api, ticket):
    assert (
        post(product_api, ticket, "u1", "agent_replied", T0 + timedelta(minutes=5), public=False).status_code
        == 201
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    response = post(product_api, ticket, "u2", "agent_replied", T0 + timedelta(minutes=20), public=True)
    assert response.status_code == 201, response.content
    ticket.refresh_from_db()
    assert ticket.first_response_at == T0 + timedelta(minutes=20)
    assert response.json()["effect"]["first_response_at"][1] == (T0 + timedelta(minutes=20)).isoformat()
    # the change is in the ticket's history
    assert ticket.history.filter(first_response_at=T0 + timedelta(minutes=20)).exists()


@pytest.mark.django_db
def test_repeat_answers_the_first_answer_and_changes_nothing(product_api, ticket):
    first = post(product_api, ticket, "u1", "satisfaction", T0 + timedelta(hours=2), rating="good")
    again = post(product_api, ticket, "u1", "satisfaction", T0 + timedelta(hours=3), rating="bad")
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    ticket.refresh_from_db()
    assert ticket.csat_rating == "good"
    assert TicketUpdate.objects.count() == 1


@pytest.mark.django_db
def test_solved_before_agent_replied_keeps_the_first_response(product_api, ticket):
    reply_at, solved_at = T0 + timedelta(minutes=30), T0 + timedelta(hours=2)
    assert post(product_api, ticket, "s", "solved", solved_at).status_code == 201
    assert post(product_api, ticket, "r", "agent_replied", reply_at, public=True).status_code == 201
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at, ticket.first_response_at) == ("solved", solved_at, reply_at)
    # and the other way round: a solve arriving after the reply does not erase it
    ticket2 = Ticket.objects.get(pk=ticket.pk)
    assert post(product_api, ticket2, "s2", "solved", solved_at + timedelta(hours=1)).status_code == 201
    ticket2.refresh_from_db()
    assert ticket2.first_response_at == reply_at


@pytest.mark.django_db
def test_an_older_solve_does_not_close_a_reopened_ticket(product_api, ticket):
    post(product_api, ticket, "a", "solved", T0 + timedelta(hours=1))
    post(product_api, ticket, "c", "reopened", T0 + timedelta(hours=3))
    post(product_api, ticket, "b", "solved", T0 + timedelta(hours=2))  # late: older than the reopen
    ticket.refresh_from_db()
    assert ticket.status != "solved"
    assert ticket.reopen_count == 1
    assert ticket.first_solved_at == T0 + timedelta(hours=1)


@pytest.mark.django_db
def test_reopen_arriving_before_its_solve(product_api, ticket):
    post(product_api, ticket, "c", "reopened", T0 + timedelta(hours=3))
    post(product_api, ticket, "a", "solved", T0 + timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.status != "solved" and ticket.reopen_count == 1


@pytest.mark.django_db
def test_latest_rating_wins_whatever_the_arrival_order(product_api, ticket):
    post(product_api, ticket, "late", "satisfaction", T0 + timedelta(days=2), rating="bad", comment="slow")
    post(product_api, ticket, "early", "satisfaction", T0 + timedelta(days=1), rating="good")
    ticket.refresh_from_db()
    assert (ticket.csat_rating, ticket.csat_comment) == ("bad", "slow")


@pytest.mark.django_db
def test_customer_reply_resumes_a_waiting_ticket(product_api, ticket, make_user):
    ticket_wait(ticket=ticket, actor=make_user("ops_lead"), now=T0 + timedelta(hours=1))
    post(product_api, ticket, "c1", "customer_replied", T0 + timedelta(hours=3))
    ticket.refresh_from_db()
    assert ticket.status in ("new", "assigned")
    assert ticket.pauses[-1][1] == (T0 + timedelta(hours=3)).isoformat()


@pytest.mark.django_db
def test_a_late_customer_reply_older_than_the_wait_does_not_resume_it(product_api, ticket, make_user):
    # The customer wrote at 10:00; the agent, not having seen it yet, put the ticket on wait at
    # 11:00; the help desk's update about the 10:00 reply arrives after that.
    ticket_wait(ticket=ticket, actor=make_user("ops_lead"), now=T0 + timedelta(hours=2))
    assert post(product_api, ticket, "c1", "customer_replied", T0 + timedelta(hours=1)).status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    assert ticket.pauses[-1] == [(T0 + timedelta(hours=2)).isoformat(), None]
    # A reply after the wait still resumes it.
    post(product_api, ticket, "c2", "customer_replied", T0 + timedelta(hours=3))
    ticket.refresh_from_db()
    assert ticket.status in ("new", "assigned")


@pytest.mark.django_db
def test_a_late_solve_older_than_a_resume_does_not_close_the_resumed_ticket(product_api, ticket, make_user):
    lead = make_user("ops_lead")
    ticket_wait(ticket=ticket, actor=lead, now=T0 + timedelta(hours=1))
    ticket_resume(ticket=ticket, actor=lead, now=T0 + timedelta(hours=3))
    post(product_api, ticket, "s1", "solved", T0 + timedelta(hours=2))
    ticket.refresh_from_db()
    assert ticket.status in ("new", "assigned") and ticket.solved_at is None
    assert ticket.first_solved_at == T0 + timedelta(hours=2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"update_id": "x", "type": "sent_flowers", "occurred_at": T0.isoformat()}, "type"),
        ({"update_id": "x", "type": "satisfaction", "occurred_at": T0.isoformat()}, "rating"),
        (
            {"update_id": "x", "type": "satisfaction", "occurred_at": T0.isoformat(), "rating": "meh"},
            "rating",
        ),
        ({"update_id": "x", "type": "solved", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"type": "solved", "occurred_at": T0.isoformat()}, "update_id"),
    ],
)
def test_bad_updates_are_400_and_change_nothing(product_api, ticket, body, field):
    response = product_api.post(url(ticket), body, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json()["error"]["details"])
    assert TicketUpdate.objects.count() == 0


@pytest.mark.django_db
def test_unknown_ticket_is_404(product_api):
    response = product_api.post(
        "/api/v1/tickets/zendesk/nope/updates/",
        {"update_id": "x", "type": "solved", "occurred_at": T0.isoformat()},
        format="json",
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_ticket"


@pytest.mark.django_db
@pytest.mark.parametrize("role,status", [("product", 201), ("support", 403), ("analytics", 403)])
def test_updates_role_matrix(api_client_for, ticket, role, status):
    response = post(api_client_for(role), ticket, "u", "solved", T0 + timedelta(hours=1))
    assert response.status_code == status


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_copies_have_one_effect(product_api, intake):
    ticket = intake(received_at=T0)
    results = run_together(
        10, lambda i: post(product_api, ticket, "dup", "reopened", T0 + timedelta(hours=1)).status_code
    )
    assert sorted(results) == [200] * 9 + [201]
    ticket.refresh_from_db()
    assert ticket.reopen_count == 1
    assert TicketUpdate.objects.filter(update_id="dup").count() == 1
