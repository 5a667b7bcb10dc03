"""The gates list (/gates/rampplan/) asks the database the same number of times for 10 plans as
for 100: no query per plan for its last decision, its rules or their latest evaluations."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.models import RampPlan
from gates.services import stop_rules_evaluate
from tests.gates.conftest import sign_proceed
from tests.helpers.clients import logged_in

pytestmark = pytest.mark.django_db

GATES_LIST = "/gates/rampplan/"
# Plans with a signed decision (the rest have none): both kinds are in every list.
SIGNED_EVERY = 3


def _grow(count, make_channel, make_plan, owner, ops_lead):
    """Plans up to ``count``, each on its own channel with its rules evaluated once (no
    snapshots yet: every rule is held for want of data, so each row lists its rules)."""
    review_date = timezone.localdate() + timedelta(days=14)
    for n in range(RampPlan.objects.count(), count):
        plan = make_plan(channel=make_channel(f"scale-{n:03d}"))
        if n % SIGNED_EVERY == 0:
            sign_proceed(plan, owner, review_date=review_date)
            stop_rules_evaluate(plan=plan, actor=ops_lead)


def _queries(client) -> tuple[list[dict], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(GATES_LIST)
    assert response.status_code == 200
    return captured.captured_queries, response.content.decode()


def test_the_gates_list_queries_the_same_for_10_and_100_plans(make_channel, make_plan, owner, ops_lead):
    client = logged_in(ops_lead)
    _grow(10, make_channel, make_plan, owner, ops_lead)
    with_10, page_10 = _queries(client)
    _grow(100, make_channel, make_plan, owner, ops_lead)
    with_100, page_100 = _queries(client)

    assert len(with_100) == len(with_10), [q["sql"][:150] for q in with_100]
    assert page_100.count("scale-0") == 100
    # What the rows show came through: decisions signed, rules held.
    assert page_100.count("Proceed") >= 100 // SIGNED_EVERY
    assert page_100.count("Insufficient data") >= 100 // SIGNED_EVERY
