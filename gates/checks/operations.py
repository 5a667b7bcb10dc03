"""The support, escalation, observability and controls checks."""

from datetime import timedelta

from celery import current_app
from django.db.models import Count, Max, Sum
from rest_framework import serializers

from accounts.models import OpsException
from gates import evidence
from gates.checks.base import (
    CheckContext,
    CheckOutcome,
    GateCheck,
    admin_link,
    pct,
    rate,
    register,
    threshold,
)
from gates.choices import CheckCode
from opsconsole.actions.registry import Action, all_actions
from opsconsole.runbooks import active_runbooks
from reports.metrics import METRICS
from reports.models import MetricSnapshot


def snapshots(ctx: CheckContext, metric: str):
    return MetricSnapshot.objects.filter(
        channel=ctx.channel,
        metric=metric,
        version=METRICS[metric].version,
        period__gte=ctx.since,
        period__lt=ctx.until,
    )


@register
class SupportCheck(GateCheck):
    code = CheckCode.SUPPORT
    label = "Support"
    rule = "At least 90% of the channel's tickets got an owner without manual triage (auto_owner_rate)."

    def evaluate(self, ctx):
        minimum = threshold("GATES_SUPPORT_MIN_AUTO_OWNER_RATE")
        rows = snapshots(ctx, "auto_owner_rate")
        sums = rows.aggregate(n=Sum("numerator"), d=Sum("denominator"), as_of=Max("computed_at"))
        value = rate(sums["n"] or 0, sums["d"] or 0)
        passed = value is not None and value >= minimum
        missing = [] if passed else [f"auto_owner_rate {pct(value)} < {pct(minimum)}"]
        if value is None:
            missing = ["no auto_owner_rate snapshot with tickets in the window"]
        return CheckOutcome(
            passed=passed,
            summary=f"{sums['n'] or 0} of {sums['d'] or 0} tickets owned by a rule at intake ({pct(value)})",
            measured={"numerator": sums["n"] or 0, "denominator": sums["d"] or 0, "auto_owner_rate": value},
            threshold={"min_rate": minimum},
            as_of=sums["as_of"] or ctx.now,
            metric_versions={"auto_owner_rate": METRICS["auto_owner_rate"].version},
            snapshot_ids=list(rows.order_by("period").values_list("pk", flat=True)),
            missing=missing,
            evidence=[
                admin_link(
                    "auto_owner_rate snapshots",
                    "admin:reports_metricsnapshot_changelist",
                    channel__id__exact=ctx.channel.pk,
                    metric="auto_owner_rate",
                )
            ],
        )


@register
class EscalationCheck(GateCheck):
    code = CheckCode.ESCALATION
    label = "Escalation"
    rule = "Each of the top 10 recurring reason codes has an approved runbook or guarded action."

    def evaluate(self, ctx):
        top_n = threshold("GATES_ESCALATION_TOP_N")
        recurring = threshold("GATES_ESCALATION_RECURRING_MIN")
        counts = (
            OpsException.objects.filter(
                account__channel=ctx.channel, opened_at__date__gte=ctx.since, opened_at__date__lt=ctx.until
            )
            .values("reason_code__code")
            .annotate(n=Count("id"))
            .filter(n__gte=recurring)
            .order_by("-n", "reason_code__code")[:top_n]
        )
        top = [(row["reason_code__code"], row["n"]) for row in counts]
        codes = [code for code, _ in top]
        registered = {a.name for a in all_actions()}
        runbooks: dict[str, list[str]] = {}
        actions: dict[str, list[str]] = {}
        for book in active_runbooks().filter(reason_code__code__in=codes).select_related("reason_code"):
            runbooks.setdefault(book.reason_code.code, []).append(book.code)
            actions.setdefault(book.reason_code.code, []).extend(
                a for a in book.allowed_actions if a in registered
            )
        rows = [
            {
                "reason_code": code,
                "exceptions": n,
                "runbooks": runbooks.get(code, []),
                "guarded_actions": sorted(set(actions.get(code, []))),
                # Covered by a runbook in force, not by what a reason code claims about itself.
                "covered": bool(runbooks.get(code)),
            }
            for code, n in top
        ]
        missing = [f"{r['reason_code']}: no runbook or guarded action" for r in rows if not r["covered"]]
        return CheckOutcome(
            passed=not missing,
            summary=f"{len(rows) - len(missing)} of the top {len(rows)} recurring reason codes are covered",
            measured={"top_reason_codes": rows},
            threshold={"top_n": top_n, "recurring_min": recurring},
            as_of=ctx.now,
            missing=missing,
            evidence=[
                admin_link(
                    "Exceptions of the channel",
                    "admin:accounts_opsexception_changelist",
                    account__channel__id__exact=ctx.channel.pk,
                ),
                admin_link("Runbooks", "admin:opsconsole_runbook_changelist"),
            ],
        )


@register
class ObservabilityCheck(GateCheck):
    code = CheckCode.OBSERVABILITY
    label = "Observability"
    rule = "The channel's snapshots are fresher than 24 h and every data-quality check is under threshold."

    def evaluate(self, ctx):
        max_age = threshold("GATES_SNAPSHOT_MAX_AGE_HOURS")
        latest = MetricSnapshot.objects.filter(channel=ctx.channel).order_by("-computed_at").first()
        age_h = round((ctx.now - latest.computed_at).total_seconds() / 3600, 1) if latest else None
        fresh = latest is not None and ctx.now - latest.computed_at <= timedelta(hours=max_age)
        checks = evidence.quality_checks(since=ctx.since, until=ctx.until, channel=ctx.channel.code)
        over = [c for c in checks if c["over_threshold"]]
        missing = (
            []
            if fresh
            else [f"snapshots {'missing' if latest is None else f'{age_h} h old'} (max {max_age} h)"]
        )
        missing += [f"data quality: {c['label']} {c['count']} over {c['threshold']}" for c in over]
        return CheckOutcome(
            passed=not missing,
            summary=f"latest snapshot {'none' if latest is None else f'{age_h} h old'}; "
            f"{len(over)} of {len(checks)} quality checks over threshold",
            measured={"snapshot_age_h": age_h, "quality_checks": checks},
            threshold={"max_snapshot_age_h": max_age},
            as_of=ctx.now,
            snapshot_ids=[latest.pk] if latest else [],
            missing=missing,
            evidence=[
                admin_link(
                    "Snapshots of the channel",
                    "admin:reports_metricsnapshot_changelist",
                    channel__id__exact=ctx.channel.pk,
                )
            ]
            + [{"label": c["label"], "url": c["rows_url"]} for c in checks if c.get("rows_url")],
        )


def action_gaps(action) -> list[str]:
    """What a guarded action fails to declare. The framework gives every action idempotency
    (the run's unique key), audit (ActionRun) and alerting on failure; the action itself must
    name its roles (permission) and validate: an input serializer, or preconditions (``check``)
    for an action that takes no parameters."""
    gaps = []
    if not action.roles:
        gaps.append("permission (no roles)")
    if action.Input is serializers.Serializer and type(action).check is Action.check:
        gaps.append("validation (no Input serializer, no check)")
    return gaps


def task_gaps(task) -> list[str]:
    """What a Celery task fails to set for safe retries: redelivery (acks_late with
    reject_on_worker_lost) and a time limit."""
    gaps = []
    if not getattr(task, "acks_late", False):
        gaps.append("acks_late")
    if not getattr(task, "reject_on_worker_lost", False):
        gaps.append("reject_on_worker_lost")
    if not (getattr(task, "time_limit", None) or current_app.conf.task_time_limit):
        gaps.append("time_limit")
    return gaps


@register
class ControlsCheck(GateCheck):
    code = CheckCode.CONTROLS
    label = "Controls"
    rule = (
        "Every guarded action declares permission, validation, idempotency, audit and alerting, and "
        "every Celery task that writes is idempotent with retries."
    )

    def evaluate(self, ctx):
        actions = {a.name: action_gaps(a) for a in all_actions()}
        tasks = {
            name: task_gaps(task)
            for name, task in sorted(current_app.tasks.items())
            if not name.startswith("celery.")
        }
        missing = [f"action {n}: {', '.join(g)}" for n, g in actions.items() if g]
        missing += [f"task {n}: {', '.join(g)}" for n, g in tasks.items() if g]
        return CheckOutcome(
            passed=not missing,
            summary=f"{len(actions)} guarded actions and {len(tasks)} tasks introspected; "
            f"{len(missing)} gaps",
            measured={"actions": actions, "tasks": tasks},
            threshold={"gaps": 0},
            as_of=ctx.now,
            missing=missing,
            evidence=[admin_link("Guarded-action runs", "admin:opsconsole_actionrun_changelist")],
        )
