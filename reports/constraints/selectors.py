"""The ranked constraint list: each reason code that hit the cohort's accounts, with volume,
handling time, owner, customer risk, the likely fix and a link to the accounts.

A reason code *hits* an account of the cohort (``reports.scope.cohort``) when an exception
with that reason code was opened for the account. ``accounts_hit`` counts those accounts;
``share`` divides it by the cohort's signups. Handling minutes are the reason code's estimate
(``estimated_handling_minutes``) and, where staff work was recorded, the measured figure:
the declared minutes of the guarded actions people ran on the reason's exceptions (or under
its runbook on those accounts) plus the estimate for each exception a person resolved (the
same counting as ``manual_minutes_per_account``), per account that received staff work. The
cost uses the measured figure when there is one, else the estimate (``rules`` has the formula).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from accounts.models import Account, OpsException, ReasonCode
from opsconsole.actions.registry import handling_minutes_of
from opsconsole.models import ActionRun, Runbook
from reports.constraints import rules
from reports.facts import COUNTED_RUN_STATUSES, person_q
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import channel_named, cohort

ACCOUNTS_LIST = "constraint_accounts"


@dataclass(frozen=True)
class Constraint:
    reason_code: str
    label: str
    accounts_hit: int
    share: float | None
    handling_minutes: float
    owner_team: str
    risk_weight: float
    cost: float
    fix_action: str | None
    runbook: str | None
    accounts_url: str
    # Beyond the contract: the two handling figures, the cohort size, how many hit accounts
    # the reason blocks from activation, and the channel (None: every channel).
    estimated_minutes: float = 0.0
    measured_minutes: float | None = None
    signups: int = 0
    blocking_accounts: int = 0
    channel: str | None = None
    staff_minutes: float = field(default=0.0)

    @property
    def fix(self) -> str:
        """The likely fix as the page says it: the runbook and its action, or engineering."""
        if self.runbook is None:
            return rules.NEEDS_ENGINEERING
        return f"runbook {self.runbook}" + (f" → {self.fix_action}" if self.fix_action else "")

    @property
    def time_cost_minutes(self) -> float:
        """Volume × handling minutes (the failure panel's time cost)."""
        return self.accounts_hit * self.handling_minutes


def hit_exceptions(*, since: date, until: date, channel: str | None = None) -> QuerySet[OpsException]:
    return OpsException.objects.filter(account__in=cohort(since=since, until=until, channel=channel))


def hit_accounts(*, reason: str, since: date, until: date, channel: str | None = None) -> QuerySet[Account]:
    """The cohort's accounts that reason code ``reason`` hit: the list behind ``accounts_hit``."""
    with_reason = OpsException.objects.filter(reason_code__code=reason).values("account_id")
    return cohort(since=since, until=until, channel=channel).filter(pk__in=with_reason)


# Actions every runbook allows that close or hand off a case rather than fix it.
GENERIC_ACTIONS = ("resolve_exception", "escalate_to_engineering")


def _fixes() -> dict[int, tuple[str, str | None]]:
    """reason code id -> (runbook code, action): the likely fix is the first remedy (an action
    other than resolving or escalating) of the reason's active runbooks, the most general runbook
    first; failing one, the most general runbook and its first action."""
    by_reason: dict[int, list[Runbook]] = defaultdict(list)
    for runbook in Runbook.objects.filter(active=True).order_by("pk"):
        by_reason[runbook.reason_code_id].append(runbook)
    found = {}
    for reason, runbooks in by_reason.items():
        runbooks.sort(key=lambda rb: len(rb.facts or {}))
        remedy = next(
            ((rb.code, a) for rb in runbooks for a in rb.allowed_actions if a not in GENERIC_ACTIONS), None
        )
        first = runbooks[0]
        found[reason] = remedy or (first.code, first.allowed_actions[0] if first.allowed_actions else None)
    return found


def _staff_minutes(exceptions: QuerySet[OpsException]) -> dict[int, dict[int, float]]:
    """reason code id -> {account id: staff minutes} recorded on the reason's exceptions."""
    minutes: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    resolved = exceptions.filter(person_q("resolved_by"), resolved_by__isnull=False).values_list(
        "reason_code_id", "account_id", "reason_code__estimated_handling_minutes"
    )
    for reason, account, estimate in resolved:
        minutes[reason][account] += estimate
    by_pk = {
        str(pk): (reason, account)
        for pk, reason, account in exceptions.values_list("pk", "reason_code_id", "account_id")
    }
    pairs = {(reason, account) for reason, account in by_pk.values()}
    accounts = {account for _, account in pairs}
    on_exception = Q(target_type=ContentType.objects.get_for_model(OpsException), target_id__in=list(by_pk))
    under_runbook = Q(account_id__in=accounts, runbook__isnull=False)
    runs = ActionRun.objects.filter(
        person_q("actor"), on_exception | under_runbook, status__in=COUNTED_RUN_STATUSES
    ).values_list("action", "target_type__model", "target_id", "account_id", "runbook__reason_code_id")
    for action, model, target_id, account, runbook_reason in runs:
        if model == "opsexception" and target_id in by_pk:
            reason, account = by_pk[target_id]
        elif (runbook_reason, account) in pairs:
            reason = runbook_reason
        else:
            continue
        minutes[reason][account] += handling_minutes_of(action)
    return minutes


def constraint_rows(*, since: date, until: date, channel: str | None = None) -> list[Constraint]:
    """Every reason code that hit the cohort, unordered."""
    found_channel = channel_named(channel)
    signups = cohort(since=since, until=until, channel=channel).count()
    exceptions = hit_exceptions(since=since, until=until, channel=channel)
    hits: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for reason, account, shape, mrr in exceptions.values_list(
        "reason_code_id", "account_id", "account__shape", "account__mrr_cents"
    ).distinct():
        hits[reason][account] = (shape, mrr)
    reasons = ReasonCode.objects.in_bulk(list(hits))
    fixes = _fixes()
    staff = _staff_minutes(exceptions)
    rows = []
    for reason_id, accounts in hits.items():
        reason = reasons[reason_id]
        blocking = [
            rules.blocks_activation(reason.provisioning_step, shape) for shape, _ in accounts.values()
        ]
        weights = [
            rules.account_weight(shape=shape, mrr_cents=mrr, blocking=blocks)
            for (shape, mrr), blocks in zip(accounts.values(), blocking, strict=True)
        ]
        risk_weight = sum(weights) / len(weights)
        handled = staff.get(reason_id, {})
        measured = round(sum(handled.values()) / len(handled), 2) if handled else None
        estimate = float(reason.estimated_handling_minutes)
        handling = measured if measured is not None else estimate
        runbook, action = fixes.get(reason_id, (None, None))
        rows.append(
            Constraint(
                reason_code=reason.code,
                label=reason.title,
                accounts_hit=len(accounts),
                share=round(len(accounts) / signups, 4) if signups else None,
                handling_minutes=handling,
                owner_team=reason.owner_team,
                risk_weight=round(risk_weight, 4),
                cost=round(
                    rules.cost(
                        accounts_hit=len(accounts), handling_minutes=handling, risk_weight=risk_weight
                    ),
                    2,
                ),
                fix_action=action,
                runbook=runbook,
                accounts_url=rows_url(
                    ACCOUNTS_LIST, reason=reason.code, since=since, until=until, channel=channel
                ),
                estimated_minutes=estimate,
                measured_minutes=measured,
                signups=signups,
                blocking_accounts=sum(blocking),
                channel=found_channel.code if found_channel else None,
                staff_minutes=sum(handled.values()),
            )
        )
    return rows


def ranked_constraints(*, since: date, until: date, channel: str | None = None) -> list[Constraint]:
    """The reason codes that hit the cohort, costliest first (``rules.FORMULA``)."""
    rows = constraint_rows(since=since, until=until, channel=channel)
    return sorted(rows, key=lambda r: (-r.cost, -r.accounts_hit, r.reason_code))


def _accounts_list(params: dict) -> QuerySet[Account]:
    return hit_accounts(
        reason=params.get("reason", ""),
        since=query_date(params, "since"),
        until=query_date(params, "until"),
        channel=params.get("channel") or None,
    )


ACCOUNT_COLUMNS = (
    ("id", "pk"),
    ("Account", "external_id"),
    ("Name", "name"),
    ("Channel", "channel__code"),
    ("Shape", "shape"),
    ("Plan", "plan"),
    ("Signed up", "signed_up_at"),
    ("Activated", "activated_at"),
)
register_list(ACCOUNTS_LIST, "Accounts a reason code hit", ACCOUNT_COLUMNS, _accounts_list)
