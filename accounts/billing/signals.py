"""What billing tells the layers above, which it may not import (they subscribe in ready()).

``payment_failed``: Stripe could not collect an invoice, and its open exception is recorded.
Sent inside the processing transaction with ``account``, ``invoice`` (Stripe's invoice, a
dict), ``exception`` (the ``payment_failed`` OpsException) and ``actor``; a receiver's
writes commit or roll back with it, and a receiver that raises fails the processing (the
event stays pending and is retried), as a direct call would.
"""

from django.dispatch import Signal

payment_failed = Signal()
