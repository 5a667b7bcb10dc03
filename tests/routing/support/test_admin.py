"""The known-issue list: its linked-ticket column costs no query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.models import Ticket
from routing.support.services.known_issues import known_issue_create
from tests.helpers.clients import logged_in

LIST = "/routing/knownissue/"


def queries_of(client) -> tuple[list[dict], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    assert response.status_code == 200
    return captured.captured_queries, response.content.decode()


def create_issues(count: int, actor, start: int = 0) -> None:
    for n in range(start, start + count):
        known_issue_create(title=f"Issue {n:03d}", actor=actor)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["support", "ops_lead"])
def test_known_issue_list_queries_the_same_for_10_and_100_rows(make_user, intake, role):
    author = make_user("support")
    tickets = [intake(), intake(), intake()]
    linked = known_issue_create(title="Imports time out", actor=author, tickets=tickets)
    create_issues(9, author)
    viewer = make_user(role)
    client = logged_in(viewer)
    queries_of(client)  # warms the content-type cache the restriction reads once per process
    with_10, page = queries_of(client)
    assert page.count("field-linked_tickets") == 10
    # The column says how many linked tickets this user may see (the change page lists them).
    visible = Ticket.objects.restrict(viewer, "view").filter(pk__in=[t.pk for t in tickets]).count()
    row = page[page.index(f"/routing/knownissue/{linked.pk}/change/") :]
    assert row[row.index("field-linked_tickets") :].split(">", 1)[1].startswith(f"{visible}<")
    assert visible == (3 if role == "ops_lead" else 0)  # support was granted no queue

    create_issues(90, author, start=9)
    with_100, page = queries_of(client)
    assert page.count("field-linked_tickets") == 100
    assert len(with_100) == len(with_10), [q["sql"][:120] for q in with_100]
