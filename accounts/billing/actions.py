"""The guarded actions of billing: changing an account's plan (in Stripe too when Stripe owns
it), the fixes each drift names (``fix_action``), replaying a stored Stripe event, and pushing
our value to the CRM.

Reconciliation reports; a person decides which side is right and runs one of these. Each
Stripe fix re-reads Stripe first, so it acts on Stripe as it is now, not as the run saw it,
and makes its Stripe calls last (listed, not made, in a dry run).
"""

from django.conf import settings
from rest_framework import serializers

from accounts.actions import ExceptionAction, exception_require_open
from accounts.billing import stripe_gateway
from accounts.billing.crm import crm_adapter
from accounts.billing.crm_push import crm_push_queue, crm_push_record_id
from accounts.billing.fixes import (
    billing_end_without_subscription,
    billing_value_adopt,
    stripe_customer_link_by_hand,
    stripe_customers_merge,
)
from accounts.billing.rules import (
    BILLING_FIELDS,
    CRM_DRIFT_KINDS,
    STRIPE_LIVE_SUBSCRIPTION,
    drift_kinds_fixed_by,
    subscription_state,
)
from accounts.billing.selectors import open_drift_of
from accounts.billing.stripe_events import stripe_event_process
from accounts.choices import ExceptionStatus, ReconciliationTarget, StripeEventStatus, SystemOfRecord
from accounts.models import Account, BillingDrift, StripeEvent
from accounts.selectors import entitlements_for
from accounts.services import account_event_note, account_plan_change, exception_set_status
from accounts.shapes import PLANS, plan_for
from opsconsole.actions.recorder import current_recorder, external_call
from opsconsole.actions.registry import Action, ActionContext, register
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.roles import BILLING, ENGINEERING, OPS_LEAD

# The product-owned fields whose Stripe value a person may adopt, by drift kind.
ADOPTABLE = {f.drift_kind: f.name for f in BILLING_FIELDS if f.fix_action == "adopt_stripe_value"}


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Why this side is right.")


def _done_note(ctx: ActionContext, what: str) -> str:
    run = f" (action run #{ctx.run.pk})" if ctx.run is not None else ""
    return f"Fixed by {ctx.actor} with {ctx.action.name}{run}: {what}. {ctx.params['note']}"


def _live_subscriptions(customer_id: str) -> list[str]:
    return [
        s["id"]
        for s in stripe_gateway.customer_subscriptions(customer_id)
        if s.get("status") in STRIPE_LIVE_SUBSCRIPTION
    ]


class _DriftFix(ExceptionAction):
    """A fix for the exception of one kind of drift."""

    kinds: tuple[str, ...] = ()
    # Its check reads Stripe as it is now: run it when the form is sent, not on every page view.
    checked_on_page = False

    def applies_to(self, target) -> bool:
        return super().applies_to(target) and target.reason_code.code in self.kinds

    def check(self, ctx: ActionContext) -> None:
        exception_require_open(ctx.target)
        if ctx.target.reason_code.code not in self.kinds:
            raise Conflict(
                "not_this_drift",
                f"{self.name} fixes {', '.join(self.kinds)}, not {ctx.target.reason_code.code}.",
            )

    def drift(self, exception) -> BillingDrift:
        drift = open_drift_of(exception, system=ReconciliationTarget.STRIPE)
        if drift is None:
            raise Conflict("drift_resolved", "The drift behind this exception is already resolved.")
        return drift


@register
class AdoptStripeValue(_DriftFix):
    name = "adopt_stripe_value"
    # Resolves the drift's exception, whose reason code's estimate counts the work.
    handling_minutes = 0
    roles = (BILLING,)
    label = "Take Stripe's value"
    description = "Set the product's billing status or trial end to what Stripe says now."
    kinds = drift_kinds_fixed_by(name)
    Input = NoteInput

    def _stripe_value(self, ctx: ActionContext):
        account = ctx.target.account
        if not account.stripe_subscription_id:
            raise Conflict("no_subscription", "The account has no Stripe subscription to read.")
        try:
            subscription = stripe_gateway.subscription_retrieve(account.stripe_subscription_id)
        except stripe_gateway.StripeNotFound as exc:
            raise Conflict(
                "subscription_gone", f"Stripe has no subscription {account.stripe_subscription_id}."
            ) from exc
        field = ADOPTABLE[ctx.target.reason_code.code]
        return field, subscription_state(subscription)[field], subscription["id"]

    def check(self, ctx: ActionContext) -> None:
        super().check(ctx)
        self.drift(ctx.target)
        field, value, _ = self._stripe_value(ctx)
        if getattr(ctx.target.account, field) == value:
            raise Conflict("already_agrees", f"{field} already matches Stripe; the next run resolves it.")

    def perform(self, ctx: ActionContext) -> dict:
        field, value, subscription_id = self._stripe_value(ctx)
        account = billing_value_adopt(
            exception=ctx.target,
            field=field,
            value=value,
            subscription_id=subscription_id,
            note=_done_note(ctx, f"{field} set to Stripe's {value}"),
            actor=ctx.actor,
        )
        return {"field": field, "value": str(getattr(account, field))}


@register
class EndProductBilling(_DriftFix):
    name = "end_product_billing"
    # Resolves the drift's exception, whose reason code's estimate counts the work.
    handling_minutes = 0
    roles = (BILLING,)
    label = "End billing here"
    description = "Stripe has no subscription: mark the account's billing canceled and its MRR zero."
    kinds = drift_kinds_fixed_by(name)
    Input = NoteInput

    def check(self, ctx: ActionContext) -> None:
        super().check(ctx)
        self.drift(ctx.target)
        customer = ctx.target.account.stripe_customer_id
        live = _live_subscriptions(customer) if customer else []
        if live:
            raise Conflict(
                "subscription_exists",
                f"Stripe now has subscription {live[0]} for this customer; run reconciliation instead.",
            )

    def approval_reason(self, ctx: ActionContext) -> str | None:
        mrr = ctx.target.account.mrr_cents
        if mrr > settings.ACTION_APPROVAL_MRR_THRESHOLD_CENTS:
            return f"Removes {mrr / 100:.2f} of MRR, above the threshold."
        return None

    def perform(self, ctx: ActionContext) -> dict:
        account = billing_end_without_subscription(
            exception=ctx.target,
            note=_done_note(ctx, "billing ended, no subscription in Stripe"),
            actor=ctx.actor,
        )
        return {"billing_status": account.billing_status, "mrr_cents": account.mrr_cents}


class MergeInput(NoteInput):
    keep = serializers.CharField(max_length=255, help_text="The Stripe customer to keep (cus_...).")


@register
class MergeStripeCustomers(_DriftFix):
    name = "merge_stripe_customers"
    # Resolves the drift's exception, whose reason code's estimate counts the work.
    handling_minutes = 0
    roles = (BILLING,)
    label = "Keep one Stripe customer"
    description = "Link the account to one of its Stripe customers and delete the others in Stripe."
    kinds = drift_kinds_fixed_by(name)
    Input = MergeInput

    def _removed(self, ctx: ActionContext) -> list[str]:
        found = self.drift(ctx.target).theirs.get("stripe_customer_ids") or []
        if ctx.params["keep"] not in found:
            raise ValidationFailed(
                "unknown_customer",
                f"{ctx.params['keep']} is not one of this account's customers ({', '.join(found)}).",
                {"keep": [f"Choose one of {', '.join(found)}."]},
            )
        return [c for c in found if c != ctx.params["keep"]]

    def check(self, ctx: ActionContext) -> None:
        super().check(ctx)
        keep = ctx.params["keep"]
        if Account.objects.filter(stripe_customer_id=keep).exclude(pk=ctx.target.account_id).exists():
            raise Conflict("customer_of_another_account", f"{keep} is linked to another account.")
        for customer in self._removed(ctx):
            live = _live_subscriptions(customer)
            if live:
                raise Conflict(
                    "customer_has_subscription",
                    f"{customer} still has subscription {live[0]}; cancel or move it before deleting "
                    "the customer.",
                )

    def approval_reason(self, ctx: ActionContext) -> str | None:
        return "Deleting a Stripe customer cannot be undone; an ops lead approves."

    def perform(self, ctx: ActionContext) -> dict:
        keep, removed = ctx.params["keep"], self._removed(ctx)
        stripe_customers_merge(
            exception=ctx.target,
            keep=keep,
            removed=removed,
            note=_done_note(ctx, f"kept {keep}, deleted {', '.join(removed)}"),
            actor=ctx.actor,
        )
        # Stripe last: anything failing before it rolls back with Stripe untouched.
        for customer in removed:
            external_call(
                "stripe",
                "customer_delete",
                {"customer": customer},
                perform=lambda customer=customer: stripe_gateway.customer_delete(customer),
            )
        return {"kept": keep, "deleted": removed}


class LinkInput(NoteInput):
    customer = serializers.CharField(max_length=255, help_text="The Stripe customer (cus_...) to link.")


@register
class LinkStripeCustomer(Action):
    name = "link_stripe_customer"
    # Find which account an unclaimed Stripe customer belongs to.
    handling_minutes = 10
    roles = (BILLING,)
    label = "Link a Stripe customer"
    description = "Link a Stripe customer no account claimed to this account, and name it in Stripe."
    target_model = "accounts.Account"
    Input = LinkInput

    def applies_to(self, target) -> bool:
        return not target.stripe_customer_id

    def check(self, ctx: ActionContext) -> None:
        account, customer_id = ctx.target, ctx.params["customer"]
        if account.stripe_customer_id:
            raise Conflict(
                "already_linked", f"The account is already linked to {account.stripe_customer_id}."
            )
        if Account.objects.filter(stripe_customer_id=customer_id).exists():
            raise Conflict("customer_of_another_account", f"{customer_id} is linked to another account.")
        try:
            customer = stripe_gateway.customer_retrieve(customer_id)
        except stripe_gateway.StripeNotFound as exc:
            raise ValidationFailed(
                "unknown_customer",
                f"Stripe has no customer {customer_id}.",
                {"customer": ["Unknown customer."]},
            ) from exc
        named = stripe_gateway.metadata_account(customer)
        if named and named != account.external_id:
            raise Conflict(
                "customer_names_another_account", f"{customer_id} names account {named} in Stripe."
            )

    def perform(self, ctx: ActionContext) -> dict:
        account, customer_id = ctx.target, ctx.params["customer"]
        stripe_customer_link_by_hand(
            account=account,
            customer_id=customer_id,
            note=_done_note(ctx, f"{customer_id} linked to {account.external_id}"),
            actor=ctx.actor,
        )
        external_call(
            "stripe",
            "customer_name_account",
            {"customer": customer_id, "account_external_id": account.external_id},
            perform=lambda: stripe_gateway.customer_name_account(customer_id, account.external_id),
        )
        return {"customer": customer_id}


# --- replay_webhook -----------------------------------------------------------------------


class ReplayInput(serializers.Serializer):
    stripe_event = serializers.CharField(max_length=255, help_text="The Stripe event id (evt_...).")


@register
class ReplayWebhook(Action):
    roles = (BILLING, ENGINEERING)
    name = "replay_webhook"
    handling_minutes = 5
    label = "Replay Stripe event"
    description = "Process a stored Stripe event again through the normal processor."
    target_model = "accounts.Account"
    Input = ReplayInput

    def _event(self, ctx):
        event = StripeEvent.objects.select_for_update().filter(stripe_id=ctx.params["stripe_event"]).first()
        if event is None:
            raise ValidationFailed(
                "unknown_stripe_event",
                f"No stored Stripe event {ctx.params['stripe_event']!r}.",
                {"stripe_event": ["Unknown event."]},
            )
        return event

    def check(self, ctx: ActionContext) -> None:
        event = self._event(ctx)
        if event.account_id not in (None, ctx.target.pk):
            raise Conflict("event_of_another_account", "That Stripe event belongs to another account.")

    def perform(self, ctx: ActionContext) -> dict:
        event = self._event(ctx)
        # The processor skips what it already handled; a replay asks it to look again. Its
        # watermarks keep an old event from moving the account backwards.
        event.status = StripeEventStatus.PENDING
        event.save()
        processor_changed = stripe_event_process(stripe_event=event, actor=ctx.actor)
        recorder = current_recorder()
        changed_models = sorted(
            {
                c["model"]
                for c in (recorder.changes if recorder else [])
                if c["model"] != "accounts.stripeevent"
            }
        )
        event.refresh_from_db()
        return {
            "stripe_event": event.stripe_id,
            "changed_state": bool(changed_models),
            "changed": changed_models,
            "processor_reported_change": processor_changed,
            "outcome": event.outcome,
        }


# --- push_to_crm --------------------------------------------------------------------------


class PushToCrmInput(serializers.Serializer):
    field = serializers.ChoiceField(
        choices=list(CRM_DRIFT_KINDS),
        required=False,
        help_text="Which field to push; the field that disagrees when left out.",
    )


@register
class PushToCrm(ExceptionAction):
    roles = (BILLING, OPS_LEAD)
    name = "push_to_crm"
    # The next CRM run (a system user) resolves the drift, so this counts the whole fix.
    handling_minutes = 10
    label = "Push our value to the CRM"
    description = (
        "Write the account's owner, plan or lifecycle stage to its CRM company (through the "
        "outbox); the next CRM reconciliation resolves the drift."
    )
    Input = PushToCrmInput

    def applies_to(self, target) -> bool:
        return super().applies_to(target) and target.reason_code.code in CRM_DRIFT_KINDS.values()

    def _drift(self, exception):
        drift = open_drift_of(exception, system=ReconciliationTarget.CRM)
        if drift is None:
            raise Conflict("no_crm_drift", "This exception has no open CRM drift to push a value for.")
        return drift

    def check(self, ctx: ActionContext) -> None:
        exception_require_open(ctx.target)
        crm_push_record_id(drift=self._drift(ctx.target), adapter=crm_adapter())

    def perform(self, ctx: ActionContext) -> dict:
        exception = ctx.target
        drift = self._drift(exception)
        field = ctx.params.get("field") or drift.field
        message = crm_push_queue(
            drift=drift,
            field=field,
            by=f"{self.name} by {ctx.actor.get_username()}",
            action_run=ctx.run,
            actor=ctx.actor,
        )
        if exception.status == ExceptionStatus.OPEN:
            exception_set_status(exception=exception, status=ExceptionStatus.IN_PROGRESS, actor=ctx.actor)
        return {"field": field, "command_id": str(message.pk) if message else None}


# --- reassign_plan ------------------------------------------------------------------------


class PlanInput(serializers.Serializer):
    plan = serializers.ChoiceField(choices=sorted(PLANS))
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _stripe_set_plan(account, plan: str):
    return external_call(
        "stripe",
        "subscription_set_plan",
        {"subscription": account.stripe_subscription_id, "plan": plan},
        perform=lambda: stripe_gateway.subscription_set_plan(account.stripe_subscription_id, plan),
    )


@register
class ReassignPlan(Action):
    name = "reassign_plan"
    # Agree the plan with the customer and check the MRR.
    handling_minutes = 10
    roles = (BILLING,)
    label = "Change plan"
    description = "Move the account to another plan; updates Stripe when Stripe owns the plan."
    target_model = "accounts.Account"
    reversible = True
    Input = PlanInput

    def check(self, ctx: ActionContext) -> None:
        account = ctx.target
        if ctx.params["plan"] == account.plan:
            raise Conflict("plan_unchanged", f"The account is already on {account.plan}.")
        if account.plan_source == SystemOfRecord.STRIPE and not account.stripe_subscription_id:
            raise Conflict("no_subscription", "Stripe owns this plan but the account has no subscription.")

    def approval_reason(self, ctx: ActionContext) -> str | None:
        account, new_plan = ctx.target, plan_for(ctx.params["plan"])
        if "enterprise" in (account.plan, new_plan.code):
            return f"A plan change to or from enterprise ({account.plan} -> {new_plan.code})."
        delta = abs(new_plan.mrr_cents - account.mrr_cents)
        if delta > settings.ACTION_APPROVAL_MRR_THRESHOLD_CENTS:
            return (
                f"MRR changes by {delta / 100:.2f}, above the "
                f"{settings.ACTION_APPROVAL_MRR_THRESHOLD_CENTS / 100:.2f} threshold."
            )
        return None

    def perform(self, ctx: ActionContext) -> dict:
        account, plan = ctx.target, plan_for(ctx.params["plan"])
        account_plan_change(
            account=account,
            plan=plan.code,
            mrr_cents=plan.mrr_cents,
            note=ctx.params.get("note", ""),
            actor=ctx.actor,
        )
        # Stripe last: anything failing before it rolls back with Stripe untouched.
        if account.plan_source == SystemOfRecord.STRIPE:
            _stripe_set_plan(account, plan.code)
        return {"plan": plan.code, "mrr_cents": plan.mrr_cents}

    def reverse_external(self, ctx: ActionContext) -> dict:
        account = Account.objects.get(pk=ctx.target.pk)
        if account.plan_source == SystemOfRecord.STRIPE:
            _stripe_set_plan(account, account.plan)
        account_event_note(
            account=account,
            type="plan.change_reversed",
            payload={"reversed_run": ctx.reversal_of.pk, "plan": account.plan},
            actor=ctx.actor,
        )
        return {"plan": account.plan, "mrr_cents": account.mrr_cents}

    def derived_state(self, target) -> dict:
        return {f"{e.type}:{e.key}": e.value for e in entitlements_for(target)}
