"""Gate reviews: open one, evaluate its six checks (a new frozen evaluation each time),
override a failed check in writing."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from gates import permissions
from gates.checks import CheckContext, all_checks
from gates.choices import ReviewKind
from gates.models import CheckOverride, CheckResult, Decision, GateEvaluation, GateReview, RampPlan
from gates.services.plans import refuse
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service

# The window a review looks at by default: the last four weeks of signups.
REVIEW_WINDOW_DAYS = 28
MIN_JUSTIFICATION = 20


@service
def review_open(
    *, plan: RampPlan, kind: str = ReviewKind.GATE, held_on: date | None = None, because: str = "", actor
) -> GateReview:
    if not permissions.may_run_review(actor, plan):
        refuse("not_allowed", "Only ops leads and the plan's executive owner open gate reviews.")
    return GateReview.objects.create(
        plan=plan,
        kind=kind,
        held_on=held_on or timezone.localdate(),
        opened_by=actor,
        opened_because=because[:300],
    )


@service
def review_evaluate(
    *, review: GateReview, since: date | None = None, until: date | None = None, now=None, actor
) -> GateEvaluation:
    """Evaluate the six checks now; the evidence is frozen in a new evaluation."""
    if not permissions.may_run_review(actor, review.plan):
        refuse("not_allowed", "Only ops leads and the plan's executive owner evaluate gate reviews.")
    now = now or timezone.now()
    until = until or now.date() + timedelta(days=1)
    since = since or until - timedelta(days=REVIEW_WINDOW_DAYS)
    if until <= since:
        raise ValidationFailed("invalid_range", "until must be after since.")
    evaluation = GateEvaluation.objects.create(
        review=review, evaluated_at=now, evaluated_by=actor, since=since, until=until
    )
    ctx = CheckContext(plan=review.plan, channel=review.plan.channel, since=since, until=until, now=now)
    CheckResult.objects.bulk_create(
        [_result(evaluation, check.code, check.evaluate(ctx)) for check in all_checks()]
    )
    return evaluation


def _result(evaluation, code, outcome) -> CheckResult:
    return CheckResult(
        evaluation=evaluation,
        code=code,
        passed=outcome.passed,
        measured=outcome.measured,
        as_of=outcome.as_of,
        metric_versions=outcome.metric_versions,
        snapshot_ids=outcome.snapshot_ids,
        threshold=outcome.threshold,
        summary=outcome.summary[:300],
        missing=outcome.missing,
        evidence=outcome.evidence,
    )


@service
def check_override(*, result: CheckResult, justification: str, actor) -> CheckOverride:
    """Override one failed check with a written justification; shown as overridden."""
    plan = result.evaluation.review.plan
    if not permissions.may_override(actor, plan):
        refuse("not_allowed", "Only ops leads and the plan's executive owner override gate checks.")
    text = (justification or "").strip()
    if len(text) < MIN_JUSTIFICATION:
        raise ValidationFailed(
            "justification_required",
            f"An override needs a written justification of at least {MIN_JUSTIFICATION} characters.",
        )
    if result.passed:
        raise Conflict("check_passed", "A passed check needs no override.")
    # A signed record shows this evaluation's tally: overriding it now would change what was signed.
    if Decision.objects.filter(evaluation=result.evaluation, signed_at__isnull=False).exists():
        raise Conflict(
            "evaluation_signed", "A signed decision cites this evaluation; evaluate again and override there."
        )
    try:
        with transaction.atomic():
            return CheckOverride.objects.create(check_result=result, justification=text, overridden_by=actor)
    except IntegrityError as exc:
        raise Conflict("already_overridden", "This check is already overridden.") from exc
