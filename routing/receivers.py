"""Routing's answers to news from the layers below, which may not call routing themselves.
Each receiver is connected in RoutingConfig.ready()."""

from routing.services import ticket_intake


def payment_failure_ticket_open(sender, *, account, invoice: dict, exception, actor, **kwargs) -> None:
    """``accounts.billing.payment_failed``: open the payment-failure ticket, idempotent on the
    invoice id; routing's rules decide its severity (sev1 for paid accounts)."""
    currency = str(invoice.get("currency") or "").upper()
    ticket_intake(
        source="stripe",
        external_id=f"payment_failed:{invoice.get('id')}",
        requester_email=account.admin_email,
        subject=f"Payment failed for {account.name}",
        body=f"Stripe invoice {invoice.get('id')} failed to collect "
        f"{(invoice.get('amount_due') or 0) / 100:.2f} {currency}. Exception #{exception.pk}.",
        account_external_id=account.external_id,
        error_code="payment_failed",
        feature_area="billing",
        actor=actor,
    )
