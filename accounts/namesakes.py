"""Namesakes: accounts that may be one workspace signed up twice, the data-quality panel's
duplicate-workspace candidates (``reports.quality``).

Two accounts are namesakes when their names are equal, case aside, and their admin emails
have the same domain, case aside (``namesake_key``). A *candidate* is an account not marked as
a duplicate that has an unmarked namesake of a lower id: of a set of unmarked namesakes, the
first is taken for the original and every later one is a candidate.

``account_namesake_idx`` (migration 0015) indexes the unmarked accounts by exactly these
expressions and the id, so ``earlier_unmarked_namesakes`` is one index descent per account.
The name and admin email are written once, at signup (no service or form changes them), so
a flag can change only when an account of its key signs up, is marked, unmarked or deleted
(``reports.namesakes`` keeps the stored flag current on exactly those writes).
"""

from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Lower, StrIndex, Substr

from accounts.models import Account


def _domain(email) -> Func:
    return Lower(Substr(email, StrIndex(email, Value("@")) + 1))


def namesake_key() -> dict:
    """The key's two expressions over an account row, as annotations named ``namesake_name``
    and ``namesake_domain``."""
    return {"namesake_name": Lower(F("name")), "namesake_domain": _domain(F("admin_email"))}


def earlier_unmarked_namesakes() -> QuerySet:
    """The unmarked namesakes of a lower id of the outer query's account row."""
    return (
        Account.objects.order_by()
        .annotate(**namesake_key())
        .filter(
            duplicate_of__isnull=True,
            pk__lt=OuterRef("pk"),
            namesake_name=Lower(OuterRef("name")),
            namesake_domain=_domain(OuterRef("admin_email")),
        )
    )


def candidate_q() -> Q:
    """The condition that the account row is a duplicate-workspace candidate."""
    return Q(duplicate_of__isnull=True) & Q(Exists(earlier_unmarked_namesakes()))
