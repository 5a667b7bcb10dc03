"""The gates pages for each role: who sees them, who gets the buttons, refusals on POST."""

from datetime import date

import pytest

from gates.choices import Outcome
from gates.services import decision_draft, review_evaluate, review_open
from tests.helpers.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafted(plan, ops_lead):
    review = review_open(plan=plan, actor=ops_lead)
    review_evaluate(review=review, actor=ops_lead)
    return decision_draft(
        review=review,
        outcome=Outcome.HARDEN,
        rationale="Imports fail.",
        attendees=["Dana"],
        expected_volume=300,
        fixes=[
            {
                "reason_code": "import_failed",
                "owner": ops_lead,
                "due_date": date(2026, 12, 20),
                "success_metric": "fewer failed imports",
            }
        ],
        actor=ops_lead,
    )


def test_the_owner_sees_the_sign_button(drafted, owner):
    response = logged_in(owner).get(f"/gates/decision/{drafted.pk}/change/")
    assert response.status_code == 200
    assert b"Sign this decision" in response.content
