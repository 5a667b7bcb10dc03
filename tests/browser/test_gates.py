"""The gates in Chromium: the decision record signed from its page prints on one A4 and one
Letter page; the ramp page's chart is an SVG image; the review page shows the six checks."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from gates.choices import Outcome
from gates.models import Decision
from gates.services import decision_draft, ramp_plan_create, review_evaluate, review_open, stop_rules_evaluate
from tests.gates.conftest import STEPS, TARGETS

FAILURE_REASONS = [
    {"reason_code": code, "label": label, "accounts": n, "share": share}
    for code, label, n, share in (
        ("import_failed", "The first data import failed", 131, 0.31),
        ("integration_failed", "An integration could not connect", 64, 0.15),
        ("token_expired", "Integration token expired", 40, 0.09),
        ("invite_expired", "The admin invite expired", 22, 0.05),
        ("workspace_failed", "Workspace creation failed", 9, 0.02),
    )
]


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.fixture
def drafted(channel, make_user):
    """A harden decision as a real meeting drafts it: evaluated checks, five failure reasons,
    four fixes, a long rationale."""

    def _make(owner):
        lead = make_user("ops_lead")
        plan = ramp_plan_create(
            channel=channel,
            weekly_signups=200,
            steps=STEPS,
            executive_owner=owner,
            targets=TARGETS,
            actor=lead,
        )
        review = review_open(plan=plan, actor=lead)
        review_evaluate(review=review, actor=lead)
        decision = decision_draft(
            review=review,
            outcome=Outcome.HARDEN,
            rationale="Three of six checks pass. Imports from the partner's exports fail for almost a third "
            "of accounts and every one of them needs a person; onboarding needs staff for most self-serve "
            "signups. Harden for thirty days on the two costliest constraints, then review again. " * 2,
            attendees=[
                "Dana Whitfield (CEO)",
                "Ops lead",
                "Head of Support",
                "Eng manager",
                "Partner manager",
            ],
            expected_volume=600,
            fixes=[
                {
                    "reason_code": code,
                    "owner": lead,
                    "due_date": date(2026, 12, 20) + timedelta(days=i),
                    "success_metric": f"{code} share below 5% of mature accounts",
                }
                for i, code in enumerate(
                    ("import_failed", "integration_failed", "token_expired", "invite_expired")
                )
            ],
            actor=lead,
        )
        Decision.objects.filter(pk=decision.pk).update(
            failure_reasons=FAILURE_REASONS,
            example_timelines={"failed": None, "with_ticket": None, "activated": None},
        )
        return decision

    return _make


@pytest.mark.browser
def test_the_signed_record_prints_on_one_page(admin_page, drafted, screenshot, settings):
    page = admin_page("leadership")
    decision = drafted(admin_page.user)
    page.goto(f"/gates/decision/{decision.pk}/change/")
    screenshot(page, "gates-decision-draft")
    page.get_by_role("button", name="Sign this decision").click()
    page.wait_for_selector("text=Signed by")
    assert page.locator("#decision-record").inner_text().count("share below 5%") == 4
    screenshot(page, "gates-decision-record")
    page.emulate_media(media="print")
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        assert pdf_pages(pdf) == 1, paper
    (settings.BASE_DIR / "var" / "screenshots").mkdir(parents=True, exist_ok=True)
    (settings.BASE_DIR / "var" / "screenshots" / "gates-decision-record.pdf").write_bytes(
        page.pdf(format="A4")
    )
    decision.refresh_from_db()
    assert decision.signed_by == admin_page.user


@pytest.mark.browser
def test_the_ramp_chart_is_an_svg_image_and_the_review_shows_six_checks(
    admin_page, drafted, screenshot, system
):
    page = admin_page("ops_lead")
    decision = drafted(admin_page.user)
    plan = decision.review.plan
    stop_rules_evaluate(plan=plan, now=timezone.now(), actor=system)
    page.goto(f"/gates/gatereview/{decision.review_id}/change/")
    assert page.locator("#gates-checks tbody tr").count() == 6
    screenshot(page, "gates-review")
    page.goto(f"/gates/rampplan/{plan.pk}/change/")
    chart = page.locator("img.gates-chart").first
    response = page.request.get(chart.get_attribute("src"))
    assert response.headers["content-type"] == "image/svg+xml"
    assert b"<script" not in response.body()
    assert page.locator("script:not([src])").count() == 0  # no inline script on the page
    screenshot(page, "gates-ramp")
