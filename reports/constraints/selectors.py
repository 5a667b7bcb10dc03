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
from django.db.models import QuerySet

from accounts.models import Account, OpsException, ReasonCode
from opsconsole.actions.registry import DEFAULT_HANDLING_MINUTES, all_actions
from opsconsole.models import ActionRun, Runbook
from reports import rawsql
from reports.constraints import rules
from reports.facts import COUNTED_RUN_STATUSES
from reports.models import AccountFacts
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import channel_named, cohort_facts_rows

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
    # (channel id, accounts hit) and (channel id, signups) of the cohort, for the sentences.
    hits_by_channel: tuple = ()
    signups_by_channel: tuple = ()

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


def hit_accounts(*, reason: str, since: date, until: date, channel: str | None = None) -> QuerySet[Account]:
    """The cohort's accounts that reason code ``reason`` hit: the list behind ``accounts_hit``,
    read as the number is (the cohort's facts rows, on the reports database)."""
    facts = cohort_facts_rows(since=since, until=until, channel=channel)
    with_reason = OpsException.objects.filter(reason_code__code=reason).values("account_id")
    return (
        Account.objects.using(facts.db).filter(pk__in=facts.values("account_id")).filter(pk__in=with_reason)
    )


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


def _run_minutes_sql() -> str:
    """``handling_minutes_of(r.action)`` as SQL: the declared minutes of every registered
    action, the default for a name no longer registered."""
    whens = " ".join(f"WHEN {rawsql.literal(a.name)} THEN {int(a.handling_minutes)}" for a in all_actions())
    return f"(CASE r.action {whens} ELSE {int(DEFAULT_HANDLING_MINUTES)} END)" if whens else "0"


@dataclass
class _Tally:
    """What one statement reads of a cohort: its signups per channel, the accounts each reason
    hit per (channel, shape, MRR), and the staff work per reason (accounts, minutes)."""

    signups: dict = field(default_factory=dict)  # channel id -> signups
    hits: dict = field(default_factory=lambda: defaultdict(list))  # reason id -> [(channel, shape, mrr, n)]
    staff: dict = field(default_factory=dict)  # reason id -> (accounts with work, minutes)


def _tally(facts: QuerySet[AccountFacts]) -> _Tally:
    """One statement over the cohort's ``facts`` (read once, and joined once to the exceptions,
    which carry the account's channel, shape and MRR on): signups per channel; for each
    reason, its hit accounts per channel, shape and MRR; and its staff work.

    The work of a (reason, account) pair of the cohort's exceptions: each exception of it a
    person resolved (its reason's estimate), and each counted guarded action a person ran on one
    of its exceptions, or under a runbook of the reason on the account (the action's declared
    minutes). A run on an exception is recorded against the exception's account
    (``ActionRun.account``), so the runs read are those of the exceptions' accounts."""
    columns = ("account_id", "channel_id", "shape", "mrr_cents")
    cohort_sql, params = rawsql.compiled(facts.order_by().values(*columns))
    using = facts.db
    exception, reason, run, runbook = (
        m._meta.db_table for m in (OpsException, ReasonCode, ActionRun, Runbook)
    )
    statuses = rawsql.literals(COUNTED_RUN_STATUSES)
    exception_type = ContentType.objects.db_manager(using).get_for_model(OpsException).pk
    sql = f"""
    WITH a (id, channel_id, shape, mrr_cents) AS ({cohort_sql}),
    x AS (
        SELECT x.id, x.reason_code_id, x.account_id, x.resolved_by_id, a.channel_id, a.shape, a.mrr_cents
        FROM {exception} x JOIN a ON a.id = x.account_id
    ), pairs AS (SELECT DISTINCT reason_code_id, account_id FROM x),
    work AS (
        SELECT x.reason_code_id AS reason, x.account_id AS account,
            rc.estimated_handling_minutes AS minutes
        FROM x JOIN {reason} rc ON rc.id = x.reason_code_id JOIN auth_user u ON u.id = x.resolved_by_id
        WHERE {rawsql.is_person_sql("u")}
      UNION ALL
        SELECT COALESCE(xt.reason_code_id, rb.reason_code_id), r.account_id, {_run_minutes_sql()}
        FROM {run} r JOIN auth_user u ON u.id = r.actor_id
        LEFT JOIN x xt ON r.target_type_id = {int(exception_type)} AND r.target_id = CAST(xt.id AS TEXT)
        LEFT JOIN {runbook} rb ON rb.id = r.runbook_id
        WHERE r.account_id IN (SELECT account_id FROM pairs) AND r.status IN ({statuses})
          AND {rawsql.is_person_sql("u")}
          AND (xt.id IS NOT NULL OR EXISTS (SELECT 1 FROM pairs p
              WHERE p.reason_code_id = rb.reason_code_id AND p.account_id = r.account_id))
    )
    SELECT 'signups' AS kind, a.channel_id AS channel, CAST(NULL AS INTEGER) AS reason,
        CAST(NULL AS TEXT) AS shape, CAST(NULL AS BIGINT) AS mrr, COUNT(*) AS n, 0 AS minutes
    FROM a GROUP BY a.channel_id
    UNION ALL
    SELECT 'hits', x.channel_id, x.reason_code_id, x.shape, x.mrr_cents, COUNT(DISTINCT x.account_id), 0
    FROM x GROUP BY x.channel_id, x.reason_code_id, x.shape, x.mrr_cents
    UNION ALL
    SELECT 'staff', NULL, reason, NULL, NULL, COUNT(DISTINCT account), SUM(minutes)
    FROM work GROUP BY reason"""
    tally = _Tally()
    for row in rawsql.rows(using, sql, params):
        if row["kind"] == "signups":
            tally.signups[row["channel"]] = row["n"]
        elif row["kind"] == "hits":
            tally.hits[row["reason"]].append((row["channel"], row["shape"], row["mrr"], row["n"]))
        else:
            tally.staff[row["reason"]] = (row["n"], float(row["minutes"] or 0))
    return tally


def constraint_rows(*, since: date, until: date, channel: str | None = None) -> list[Constraint]:
    """Every reason code that hit the cohort, unordered. Set-based: one statement reads the
    cohort once (``_tally``); nothing is read per account."""
    found_channel = channel_named(channel)
    tally = _tally(cohort_facts_rows(since=since, until=until, channel=channel))
    signups = sum(tally.signups.values())
    reasons = ReasonCode.objects.in_bulk(list(tally.hits))
    fixes = _fixes()
    rows = []
    for reason_id, found in tally.hits.items():
        reason = reasons[reason_id]
        hit = sum(n for *_, n in found)
        by_channel: dict[int, int] = defaultdict(int)
        blocking = weight = 0.0
        for channel_id, shape, mrr, n in found:
            by_channel[channel_id] += n
            blocks = rules.blocks_activation(reason.provisioning_step, shape)
            blocking += n if blocks else 0
            weight += n * rules.account_weight(shape=shape, mrr_cents=mrr, blocking=blocks)
        risk_weight = weight / hit
        handled, staff_minutes = tally.staff.get(reason_id, (0, 0))
        measured = round(staff_minutes / handled, 2) if handled else None
        estimate = float(reason.estimated_handling_minutes)
        handling = measured if measured is not None else estimate
        runbook, action = fixes.get(reason_id, (None, None))
        rows.append(
            Constraint(
                reason_code=reason.code,
                label=reason.title,
                accounts_hit=hit,
                share=round(hit / signups, 4) if signups else None,
                handling_minutes=handling,
                owner_team=reason.owner_team,
                risk_weight=round(risk_weight, 4),
                cost=round(
                    rules.cost(accounts_hit=hit, handling_minutes=handling, risk_weight=risk_weight), 2
                ),
                fix_action=action,
                runbook=runbook,
                accounts_url=rows_url(
                    ACCOUNTS_LIST, reason=reason.code, since=since, until=until, channel=channel
                ),
                estimated_minutes=estimate,
                measured_minutes=measured,
                signups=signups,
                blocking_accounts=int(blocking),
                channel=found_channel.code if found_channel else None,
                staff_minutes=staff_minutes,
                hits_by_channel=tuple(sorted(by_channel.items())),
                signups_by_channel=tuple(sorted(tally.signups.items())),
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
