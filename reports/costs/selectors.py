"""The cost model per channel, over the cohort (signed up in [since, until), not duplicates).

Inputs (``reports.CostSettings``, ``reports.ChannelSpend``; defaults when never edited): the
loaded cost per support hour ($55) and per engineering hour ($115), the minutes per ticket (12)
and per escalation (60), Stripe's dispute fee ($15), each channel's acquisition spend per month.

Per channel:

- spend over the range = monthly spend x days in the range / 30 (unknown, and the per-signup and
  per-activated figures with it, until an ops lead enters the channel's spend);
- cost per signup = spend / signups;
- operating cost = manual minutes (``manual_minutes_per_account``'s numerator: person-run
  actions and person-resolved exceptions, 30 days) x support rate
  + tickets (``tickets_per_100``'s numerator, 7 days) x minutes per ticket x support rate
  + escalations (``escalations_per_100``'s numerator, 30 days) x minutes per escalation x
  engineering rate
  + refunds and disputes of the range (their amounts, and the fee per dispute);
- cost per activated account = spend / activated accounts, and (spend + operating) / activated;
- a channel with spend (or operating cost) and no activated account costs infinitely much per
  activated account: ``no_activation`` is set, it sorts as the most expensive, and it takes part
  in the medians below as infinity;
- "cheap per signup, expensive per activation": cost per signup at or below the median of the
  channels, and cost per activated account (with operating cost) at or above it (with at least
  two channels to compare).

All money is in cents, rounded once at the end of each figure.
"""

import math
from dataclasses import dataclass, replace
from datetime import date
from statistics import median

from django.db.models import Count, Q, Sum

from accounts.models import Channel
from reports.metrics.accounts import cohort_facts
from reports.models import ChannelSpend, CostSettings
from reports.refunds.selectors import billing_issues
from reports.scope import bounds

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class ChannelCost:
    channel: str
    name: str
    signups: int
    activated: int
    spend_cents: int | None
    cost_per_signup_cents: int | None
    manual_minutes: int
    manual_cents: int
    tickets: int
    tickets_cents: int
    escalations: int
    escalations_cents: int
    refunds_disputes_cents: int
    billing_tickets: int
    billing_tickets_cents: int
    operating_cents: int
    cost_per_activated_cents: int | None
    cost_per_activated_with_operating_cents: int | None
    cheap_signup_expensive_activation: bool = False
    # Spend (or operating cost) and no activated account: infinitely expensive per activation.
    no_activation: bool = False

    @property
    def per_activated_sort_value(self) -> float | None:
        """Cost per activated account with operating cost, infinite with none activated."""
        if self.no_activation:
            return math.inf
        return self.cost_per_activated_with_operating_cents


def cost_inputs() -> CostSettings:
    """The inputs as edited, or the defaults (an unsaved row) before anyone edited them."""
    return CostSettings.objects.filter(pk=1).first() or CostSettings(pk=1)


def monthly_spends() -> dict[int, int]:
    return dict(ChannelSpend.objects.values_list("channel_id", "monthly_spend_cents"))


def _per(amount: float, count: int) -> int | None:
    return round(amount / count) if count else None


def _priced(minutes: float, hour_cents: int) -> float:
    return minutes * hour_cents / 60


def channel_costs(*, since: date, until: date) -> list[ChannelCost]:
    """Every channel's costs, the costliest per activated account (with operating cost) first."""
    bounds(since, until)
    days = (until - since).days
    inputs = cost_inputs()
    spends = monthly_spends()
    facts = {
        row["channel_id"]: row
        for row in cohort_facts(since=since, until=until)
        .values("channel_id")
        .annotate(
            signups=Count("pk"),
            activated=Count("pk", filter=Q(time_to_value__isnull=False)),
            manual=Sum("manual_minutes_30d"),
            tickets=Sum("tickets_7d"),
            escalations=Sum("escalations_30d"),
        )
        .order_by()
    }
    billing = {row.channel: row for row in billing_issues(since=since, until=until)}
    rows = []
    for channel in Channel.objects.order_by("code"):
        f = facts.get(channel.pk, {})
        signups, activated = f.get("signups", 0), f.get("activated", 0)
        manual, tickets, escalations = f.get("manual") or 0, f.get("tickets") or 0, f.get("escalations") or 0
        known = channel.pk in spends
        spend = spends[channel.pk] * days / DAYS_PER_MONTH if known else 0
        manual_cost = _priced(manual, inputs.support_hour_cents)
        ticket_cost = _priced(tickets * inputs.minutes_per_ticket, inputs.support_hour_cents)
        escalation_cost = _priced(escalations * inputs.minutes_per_escalation, inputs.engineering_hour_cents)
        b = billing.get(channel.code)
        refunds_disputes = (
            b.refunded_cents + b.disputed_cents + b.disputes * inputs.dispute_fee_cents if b else 0
        )
        billing_tickets = b.billing_tickets if b else 0
        operating = manual_cost + ticket_cost + escalation_cost + refunds_disputes
        rows.append(
            ChannelCost(
                channel=channel.code,
                name=channel.name,
                signups=signups,
                activated=activated,
                spend_cents=round(spend) if known else None,
                cost_per_signup_cents=_per(spend, signups) if known else None,
                manual_minutes=manual,
                manual_cents=round(manual_cost),
                tickets=tickets,
                tickets_cents=round(ticket_cost),
                escalations=escalations,
                escalations_cents=round(escalation_cost),
                refunds_disputes_cents=refunds_disputes,
                billing_tickets=billing_tickets,
                billing_tickets_cents=round(
                    _priced(billing_tickets * inputs.minutes_per_ticket, inputs.support_hour_cents)
                ),
                operating_cents=round(operating),
                cost_per_activated_cents=_per(spend, activated) if known else None,
                cost_per_activated_with_operating_cents=_per(spend + operating, activated) if known else None,
                no_activation=known and activated == 0 and spend + operating > 0,
            )
        )
    return _flag_cheap_but_expensive(rows)


def _flag_cheap_but_expensive(rows: list[ChannelCost]) -> list[ChannelCost]:
    per_signup = [r.cost_per_signup_cents for r in rows if r.cost_per_signup_cents is not None]
    per_activated = [r.per_activated_sort_value for r in rows if r.per_activated_sort_value is not None]
    if len(per_signup) >= 2 and len(per_activated) >= 2:
        signup_median, activated_median = median(per_signup), median(per_activated)
        rows = [
            _with_flag(
                r,
                r.cost_per_signup_cents is not None
                and r.per_activated_sort_value is not None
                and r.cost_per_signup_cents <= signup_median
                and r.per_activated_sort_value >= activated_median,
            )
            for r in rows
        ]
    # Costliest per activated account first (none activated for the spend: infinite, first);
    # channels without a figure last.
    return sorted(
        rows,
        key=lambda r: (
            r.per_activated_sort_value is None,
            -(r.per_activated_sort_value or 0),
            r.channel,
        ),
    )


def _with_flag(row: ChannelCost, flag: bool) -> ChannelCost:
    return replace(row, cheap_signup_expensive_activation=flag)


def savings(*, minutes: float, signups: int, days: int, support_hour_cents: int) -> dict:
    """ "Reducing manual setup by N minutes across M monthly accounts saves H hours = $X"."""
    monthly = round(signups * DAYS_PER_MONTH / days) if days else 0
    hours = minutes * monthly / 60
    cents = round(hours * support_hour_cents)
    return {"minutes": minutes, "monthly_accounts": monthly, "hours": round(hours, 1), "cents": cents}


def savings_sentence(found: dict) -> str:
    dollars = f"${found['cents'] / 100:,.2f}"
    return (
        f"Reducing manual setup by {found['minutes']:g} minutes across {found['monthly_accounts']} monthly "
        f"accounts saves {found['hours']:g} {'hour' if found['hours'] == 1 else 'hours'} = {dollars} a month."
    )
