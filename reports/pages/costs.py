"""The cost model page: per-channel costs with the savings sentence and the badge for a
channel cheap per signup but expensive per activated account; the inputs, which ops leads
edit here (``reports.costs.services``), and their history. Also refunds and disputes."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect

from accounts.models import Channel
from opsconsole.errors import ApplicationError, ValidationFailed
from opsconsole.formatting import human_time, money
from reports.costs.selectors import channel_costs, cost_inputs, monthly_spends, savings, savings_sentence
from reports.costs.services import EDIT_PERMISSION, SETTINGS_FIELDS, channel_spend_set, cost_settings_update
from reports.models import ChannelSpend, CostSettings
from reports.pages.common import Cell, Table, guarded, render, scope_of
from reports.refunds.selectors import billing_issues

DEFAULT_REDUCTION_MINUTES = 10
BADGE = "cheap per signup, expensive per activation"
NO_ACTIVATION_BADGE = "spend, no activated account"


def _reduction(request) -> float:
    try:
        return max(0.0, float(request.GET.get("reduce_minutes") or DEFAULT_REDUCTION_MINUTES))
    except ValueError:
        return DEFAULT_REDUCTION_MINUTES


def _form_key(name: str) -> str:
    """The form asks for money in dollars: ``support_hour_cents`` is typed as ``support_hour``."""
    return name.removesuffix("_cents")


def _label(name: str) -> str:
    return CostSettings._meta.get_field(name).help_text or name.replace("_", " ").capitalize()


def _dollars(text: str, what: str) -> int:
    """Dollars typed into the form, to the cent, as cents. Anything else (blank, a fraction of
    a cent, not a number, over 13 characters: past $1bn is a typo) is refused in the form's
    words, not the column's."""
    try:
        amount = Decimal(text.strip())
        to_the_cent = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # not a number, or too many digits to be one
        to_the_cent = False
    if not to_the_cent or len(text) > 13:
        raise ValidationFailed(
            "invalid_amount",
            f"{what.rstrip('.')}: type an amount in dollars, to the cent (such as 55.00).",
            {"value": text},
        )
    return int(amount * 100)


def _save(request) -> None:
    """Apply the posted inputs through the services, all or none; a refusal becomes a message."""
    try:
        with transaction.atomic():
            values = {}
            for name in SETTINGS_FIELDS:
                key = _form_key(name)
                if key in request.POST:
                    text = request.POST[key]
                    values[name] = _dollars(text, _label(name)) if key != name else text
            if values:
                cost_settings_update(actor=request.user, **values)
            current = monthly_spends()
            for channel in Channel.objects.order_by("code"):
                key = f"spend_{channel.code}"
                if key in request.POST:
                    spend = _dollars(request.POST[key] or "0", f"{channel.name} spend")  # blank: no spend
                    # Only what changed: the history lists the spends someone set, not every row
                    # the form carried unchanged.
                    if spend != current.get(channel.pk, 0):
                        channel_spend_set(channel=channel, monthly_spend_cents=spend, actor=request.user)
        messages.success(request, "Cost model inputs saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)


def _flags(row) -> Cell | str:
    badges = [
        b
        for b, on in (
            (NO_ACTIVATION_BADGE, row.no_activation),
            (BADGE, row.cheap_signup_expensive_activation),
        )
        if on
    ]
    return Cell("; ".join(badges), tone="bad" if row.no_activation else "warn") if badges else ""


@guarded
def costs_view(request):
    if request.method == "POST":
        _save(request)
        return redirect(request.get_full_path())
    scope = scope_of(request)
    inputs = cost_inputs()
    rows = channel_costs(since=scope.since, until=scope.until)
    days = (scope.until - scope.since).days
    reduction = _reduction(request)
    table = Table(
        "costs",
        "Cost per channel (costliest per activated account first)",
        [
            "Channel",
            "Signups",
            "Activated",
            "Spend",
            "Per signup",
            "Manual min",
            "Manual $",
            "Tickets",
            "Tickets $",
            "Escalations",
            "Escalations $",
            "Refunds+disputes $",
            "Operating $",
            "Per activated",
            "Per activated incl. operating",
            "Flag",
        ],
    )
    saving = Table(
        "savings",
        f"Savings from {reduction:g} fewer minutes of manual setup per account",
        ["Channel", "Savings"],
    )
    for row in rows:
        found = savings(
            minutes=reduction, signups=row.signups, days=days, support_hour_cents=inputs.support_hour_cents
        )
        table.rows.append(
            [
                row.name,
                row.signups,
                row.activated,
                money(row.spend_cents),
                money(row.cost_per_signup_cents),
                row.manual_minutes,
                money(row.manual_cents),
                row.tickets,
                money(row.tickets_cents),
                row.escalations,
                money(row.escalations_cents),
                money(row.refunds_disputes_cents),
                money(row.operating_cents),
                "∞" if row.no_activation and row.spend_cents else money(row.cost_per_activated_cents),
                Cell(
                    "∞" if row.no_activation else money(row.cost_per_activated_with_operating_cents),
                    tone="bad" if row.cheap_signup_expensive_activation or row.no_activation else "",
                ),
                _flags(row),
            ]
        )
        if row.signups:
            saving.rows.append([row.name, savings_sentence(found)])
    spends = monthly_spends()
    channels = [(c, spends.get(c.pk, 0) / 100) for c in Channel.objects.order_by("code")]
    history = Table("inputs_history", "Changes to the inputs", ["When", "Who", "What"])
    changes = []
    for record in CostSettings.history.select_related("history_user").order_by("-history_date")[:10]:
        what = ", ".join(f"{name} {getattr(record, name)}" for name in SETTINGS_FIELDS)
        changes.append((record.history_date, record.history_user, what))
    spend_changes = ChannelSpend.history.select_related("history_user", "channel").order_by("-history_date")
    for record in spend_changes[:10]:
        what = f"{record.channel} spend {money(record.monthly_spend_cents)}/month"
        changes.append((record.history_date, record.history_user, what))
    changes.sort(key=lambda change: change[0], reverse=True)
    history.rows = [[human_time(at), who, what] for at, who, what in changes[:10]]
    return render(
        request,
        title="Cost model",
        scope=scope,
        tables=[table, saving, history],
        template="reports/constraints/costs.html",
        inputs=inputs,
        fields=[_field(inputs, name) for name in SETTINGS_FIELDS],
        spend_channels=channels,
        may_edit=request.user.has_perm(EDIT_PERMISSION),
        reduction=reduction,
    )


def _field(inputs: CostSettings, name: str) -> dict:
    """One input as the form shows it: money in dollars, to the cent; the rest in minutes."""
    value, label = getattr(inputs, name), _label(name)
    if name.endswith("_cents"):
        return {
            "key": _form_key(name),
            "label": label,
            "unit": "$",
            "value": f"{value / 100:.2f}",
            "step": "0.01",
            "shown": money(value),
        }
    return {"key": name, "label": label, "unit": "min", "value": value, "step": "1", "shown": f"{value} min"}


@guarded
def billing_view(request):
    scope = scope_of(request)
    inputs = cost_inputs()
    table = Table(
        "billing_issues",
        "Refunds, disputes and billing tickets by channel",
        ["Channel", "Refunds", "Refunded", "Disputes", "Disputed", "Billing tickets", "Priced"],
        note=(
            "Priced = refunded + disputed + disputes × dispute fee "
            "+ billing tickets × minutes per ticket × support hour."
        ),
    )
    for row in billing_issues(since=scope.since, until=scope.until):
        priced = (
            row.refunded_cents
            + row.disputed_cents
            + row.disputes * inputs.dispute_fee_cents
            + round(row.billing_tickets * inputs.minutes_per_ticket * inputs.support_hour_cents / 60)
        )
        table.rows.append(
            [
                row.channel,
                Cell(row.refunds, row.refunds_url),
                money(row.refunded_cents),
                Cell(row.disputes, row.disputes_url),
                money(row.disputed_cents),
                Cell(row.billing_tickets, row.tickets_url),
                money(priced),
            ]
        )
    return render(request, title="Refunds, disputes, billing tickets", scope=scope, tables=[table])
