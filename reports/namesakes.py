"""The stored duplicate-workspace candidate flag, ``AccountFacts.namesake_candidate``, kept
equal to its definition (``accounts.namesakes.candidate_q``) so that the data-quality panel
reads the few flagged rows of a range through a partial index instead of probing for a
namesake of every account of the range.

A flag can change only when an account of its key is created, marked as a duplicate,
unmarked or deleted (the key, the name and admin email domain, never changes). Each of those
writes recounts its whole key (``namesakes_recount``), in the writer's transaction, under a
transaction-scoped advisory lock on the key (PostgreSQL) taken before the writer touches any
facts row: two signups of one name at once (a double submit, the very case the check is for)
are recounted one after the other, the second seeing the first, whichever commits first. A
recount reads the key's unmarked accounts through an index and writes only the flags that
change. ``facts_rebuild`` computes the flag from the definition: a probe per account
for a few accounts, one window over every account for all of them (``namesakes_rebuild``).
"""

from collections.abc import Iterable

from django.db import connections
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from accounts.models import Account
from accounts.namesakes import candidate_q, namesake_key
from reports.models import AccountFacts

Key = tuple[str, str]


def namesake_keys(account_ids: Iterable[int]) -> set[Key]:
    """The keys of the accounts ``account_ids``, as the database computes them."""
    keyed = Account.objects.using("default").order_by().annotate(**namesake_key())
    return set(keyed.filter(pk__in=list(account_ids)).values_list("namesake_name", "namesake_domain"))


def namesakes_lock(keys: set[Key]) -> None:
    """Hold the keys' transaction-scoped locks. A writer takes them before it writes any facts
    row of the key: a recount holding them updates those rows, so taking them after (holding a
    row the recount waits for) would deadlock."""
    connection = connections["default"]
    if connection.vendor != "postgresql" or not keys:
        return  # SQLite runs one writer at a time
    with connection.cursor() as cursor:
        for name, domain in sorted(keys):  # one order, so two writers never wait on each other
            key = f"namesake:{domain}:{name}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def namesakes_recount(keys: set[Key], *, also: Iterable[int] = ()) -> None:
    """Set the flag of every unmarked account of ``keys``, and of the accounts ``also`` (one
    just marked, say), from the definition. Only rows whose flag changes are written."""
    namesakes_lock(keys)  # held already by a careful caller; taking it again is free
    of_keys = Q(pk__in=[])
    for name, domain in keys:
        of_keys |= Q(namesake_name=name, namesake_domain=domain)
    # The unmarked accounts of the keys (account_namesake_idx), read after the lock is held.
    keyed = Account.objects.using("default").order_by().annotate(**namesake_key())
    ids = {*also, *keyed.filter(of_keys, duplicate_of__isnull=True).values_list("pk", flat=True)}
    candidates = Account.objects.using("default").filter(candidate_q(), pk__in=ids).values("pk")
    facts = AccountFacts.objects.filter(pk__in=ids)
    facts.filter(namesake_candidate=False, account_id__in=candidates).update(namesake_candidate=True)
    facts.filter(namesake_candidate=True).exclude(account_id__in=candidates).update(namesake_candidate=False)


def namesakes_rebuild() -> None:
    """Every account's flag from the definition, set-based. Of each key's unmarked accounts in
    id order, every one after the first is a candidate: the definition read as one window over
    the unmarked accounts (one sort), not as a probe per account, which a bulk load could not
    afford (it runs while the accounts' indexes are being rebuilt)."""
    ranked = (
        Account.objects.using("default")
        .order_by()
        .filter(duplicate_of__isnull=True)
        .annotate(**namesake_key())
        .annotate(
            place=Window(
                RowNumber(), partition_by=[F("namesake_name"), F("namesake_domain")], order_by=F("pk").asc()
            )
        )
    )
    candidates = ranked.filter(place__gt=1).values("pk")
    facts = AccountFacts.objects.using("default")
    facts.filter(namesake_candidate=True).exclude(account_id__in=candidates).update(namesake_candidate=False)
    facts.filter(namesake_candidate=False, account_id__in=candidates).update(namesake_candidate=True)
