"""Refund and dispute events stored before they had a handler were ignored ("no handler for
this event type") and tied to no account. Put them back in the queue: the pending sweep
(``requeue_pending_stripe_events``) applies them, and the handler records each against its
account, so the journey's change step counts them."""

from django.db import migrations

TYPES = ("charge.refunded", "charge.dispute.created")


def requeue(apps, schema_editor):
    StripeEvent = apps.get_model("accounts", "StripeEvent")
    StripeEvent.objects.filter(type__in=TYPES, status="ignored", account__isnull=True).update(
        status="pending"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0016_account_unsourced_index"),
    ]

    operations = [
        migrations.RunPython(requeue, migrations.RunPython.noop, elidable=False),
    ]
