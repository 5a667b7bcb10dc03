"""The onboarding and provisioning checks: read from accounts, their exceptions, tickets and
the guarded-action runs, over the channel's signup cohort [since, until)."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q

from accounts.choices import OnboardingPath, StepStatus
from accounts.models import Account, OpsException, ProvisioningStep
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
from opsconsole.history import SYSTEM_USER_PREFIX
from opsconsole.models import ActionRun
from routing.models import Ticket

PROVISIONING_WINDOW = timedelta(hours=72)  # provisioning_failure_rate's window (METRICS.md)
CHECK_VERSION = 1


def cohort(ctx: CheckContext):
    return Account.objects.filter(
        channel=ctx.channel,
        duplicate_of__isnull=True,
        signed_up_at__date__gte=ctx.since,
        signed_up_at__date__lt=ctx.until,
    )


def person_runs(before=None):
    """Guarded-action runs on the outer account by a person (not a system user)."""
    runs = ActionRun.objects.filter(account=OuterRef("pk"), actor__is_staff=True).exclude(
        actor__username__startswith=SYSTEM_USER_PREFIX
    )
    return runs.filter(created_at__lt=OuterRef(before)) if before else runs


@register
class OnboardingCheck(GateCheck):
    code = CheckCode.ONBOARDING
    label = "Onboarding"
    rule = "At least 80% of the channel's self-serve accounts activate with no staff touch."

    def evaluate(self, ctx):
        minimum = threshold("GATES_ONBOARDING_MIN_RATE")
        mature = cohort(ctx).filter(
            onboarding_path=OnboardingPath.SELF_SERVE, facts__activation_due_at__lte=ctx.now
        )
        touched = (
            Q(Exists(Ticket.objects.filter(account=OuterRef("pk"), created_at__lt=OuterRef("activated_at"))))
            | Q(
                Exists(
                    OpsException.objects.filter(
                        account=OuterRef("pk"), opened_at__lt=OuterRef("activated_at")
                    )
                )
            )
            | Q(Exists(person_runs(before="activated_at")))
        )
        activated = mature.filter(activated_at__isnull=False)
        untouched = activated.exclude(touched).count()
        total = mature.count()
        touched_count = activated.filter(touched).count()
        value = rate(untouched, total)
        passed = value is not None and value >= minimum
        missing = [] if passed else [f"untouched activation {pct(value)} < {pct(minimum)}"]
        if total == 0:
            missing = ["no mature self-serve accounts in the window"]
        return CheckOutcome(
            passed=passed,
            summary=f"{untouched} of {total} mature self-serve accounts activated with no staff "
            f"touch ({pct(value)})",
            measured={
                "untouched_activated": untouched,
                "activated_after_touch": touched_count,
                "mature_self_serve": total,
                "rate": value,
            },
            threshold={"min_rate": minimum},
            as_of=ctx.now,
            metric_versions={"gates.onboarding_untouched": CHECK_VERSION},
            missing=missing,
            evidence=[
                admin_link(
                    "Self-serve accounts of the channel",
                    "admin:accounts_account_changelist",
                    channel__id__exact=ctx.channel.pk,
                    onboarding_path__exact=OnboardingPath.SELF_SERVE,
                ),
                admin_link(
                    "Exceptions of the channel",
                    "admin:accounts_opsexception_changelist",
                    account__channel__id__exact=ctx.channel.pk,
                ),
            ],
        )


@register
class ProvisioningCheck(GateCheck):
    code = CheckCode.PROVISIONING
    label = "Provisioning"
    rule = (
        "At least 95% of accounts are provisioned with no manual action, and no staff edited an "
        "account's fields outside a guarded action in the window."
    )

    def evaluate(self, ctx):
        minimum = threshold("GATES_PROVISIONING_MIN_RATE")
        max_edits = threshold("GATES_PROVISIONING_MAX_DIRECT_EDITS")
        mature = cohort(ctx).filter(signed_up_at__lte=ctx.now - PROVISIONING_WINDOW)
        unfinished = ProvisioningStep.objects.filter(account=OuterRef("pk")).exclude(
            status=StepStatus.SUCCEEDED
        )
        clean = mature.exclude(Exists(unfinished)).exclude(Exists(person_runs())).count()
        total = mature.count()
        value = rate(clean, total)
        edits = direct_edits(ctx)
        passed = value is not None and value >= minimum and len(edits) <= max_edits
        missing = []
        if total == 0:
            missing.append("no accounts 72 h old in the window")
        elif value < minimum:
            missing.append(f"provisioned with no manual action {pct(value)} < {pct(minimum)}")
        if len(edits) > max_edits:
            missing.append(f"{len(edits)} direct edits of account fields by staff outside guarded actions")
        return CheckOutcome(
            passed=passed,
            summary=f"{clean} of {total} accounts provisioned with no manual action ({pct(value)}); "
            f"{len(edits)} direct staff edits",
            measured={
                "provisioned_untouched": clean,
                "mature_accounts": total,
                "rate": value,
                "direct_edits": len(edits),
                "direct_edit_rows": edits[:20],
            },
            threshold={"min_rate": minimum, "max_direct_edits": max_edits},
            as_of=ctx.now,
            metric_versions={"gates.provisioning_untouched": CHECK_VERSION},
            missing=missing,
            evidence=[
                admin_link(
                    "Failed provisioning events of the channel",
                    "admin:accounts_accountevent_changelist",
                    channel__id__exact=ctx.channel.pk,
                    type="workspace.failed",
                ),
                admin_link(
                    "Accounts of the channel",
                    "admin:accounts_account_changelist",
                    channel__id__exact=ctx.channel.pk,
                ),
                admin_link("Guarded-action runs", "admin:opsconsole_actionrun_changelist"),
            ],
        )


def direct_edits(ctx: CheckContext) -> list[dict]:
    """Changes to the channel's accounts recorded in history by a staff member while no guarded
    action of theirs on that account was running: edits outside the guarded actions."""
    History = Account.history.model
    covering = ActionRun.objects.filter(
        account_id=OuterRef("id"),
        actor_id=OuterRef("history_user_id"),
        created_at__lte=OuterRef("history_date") + timedelta(seconds=1),
    ).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=OuterRef("history_date") - timedelta(seconds=1))
    )
    rows = (
        History.objects.filter(
            channel_id=ctx.channel.pk,
            history_type="~",
            history_user__is_staff=True,
            history_date__date__gte=ctx.since,
            history_date__date__lt=ctx.until,
        )
        .exclude(history_user__username__startswith=SYSTEM_USER_PREFIX)
        .exclude(Exists(covering))
        .annotate(user=F("history_user__username"))
        .order_by("-history_date")
    )
    return [
        {
            "account": r.external_id,
            "user": r.user,
            "at": r.history_date.isoformat(),
            "history_id": r.history_id,
        }
        for r in rows[:200]
    ]
