"""Lockout after failed logins: django-axes' database handler, made to hold under parallel attempts.

Axes checks the count before the password and adds the failure after it. Fifty attempts sent
at once all pass the check before the first failure is written, so all fifty get their
password checked (axes issue #592 measured the same with its cache handler). This handler
*reserves* each attempt before the password is checked: under a lock per username and per
client address, it refuses when the count has reached the limit, and otherwise counts the
attempt as a failure at once. A correct password gives the reservation back (axes resets the
user's count on success); a wrong one leaves it counted. So at most ``AXES_FAILURE_LIMIT``
passwords are ever checked for a username or an address per lock window, however many
requests arrive together.

On PostgreSQL the lock is a transaction-scoped advisory lock held only while the count is
read and written, never during the password hash. SQLite (``make run``) has no such lock and
serialises writers itself, without the guarantee.
"""

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db import connections, router, transaction
from django.db.models import F

log = logging.getLogger(__name__)


def _serialize_on(using: str, keys: list[str]) -> None:
    """Hold a transaction-scoped lock per key (sorted, so two requests never wait on each other
    in opposite orders)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


class ReservingDatabaseHandler(AxesDatabaseHandler):
    """``AxesDatabaseHandler`` whose check and count are one step (see the module docstring)."""

    def is_allowed(self, request, credentials=None) -> bool:
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        return self.reserve_attempt(request, credentials)

    def reserve_attempt(self, request, credentials=None) -> bool:
        """Count this attempt as a failure now, unless the username or the address is locked."""
        username = get_client_username(request, credentials)
        limit = get_failure_limit(request, credentials)
        using = router.db_for_write(AccessAttempt)
        with transaction.atomic(using=using):
            _serialize_on(using, [f"axes:username:{username}", f"axes:ip:{request.axes_ip_address}"])
            self.clean_expired_user_attempts(request, credentials)
            if self.get_failures(request, credentials) >= limit:
                return False
            attempt, created = AccessAttempt.objects.get_or_create(
                username=username,
                ip_address=request.axes_ip_address,
                user_agent=request.axes_user_agent,
                defaults={
                    "failures_since_start": 1,
                    "attempt_time": request.axes_attempt_time,
                    "http_accept": request.axes_http_accept,
                    "path_info": request.axes_path_info,
                    "get_data": "",
                    "post_data": "",
                },
            )
            if not created:
                AccessAttempt.objects.filter(pk=attempt.pk).update(
                    failures_since_start=F("failures_since_start") + 1, attempt_time=request.axes_attempt_time
                )
            request.axes_reserved = True
            # The attempt that fills the count: if its password is wrong, the lock starts.
            request.axes_fills_limit = self.get_failures(request, credentials) >= limit
        return True

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            log.error("AXES: a failed login without a request cannot be counted.")
            return
        if getattr(request, "axes_locked_out", False):
            # Refused before its password was checked: nothing more to count.
            request.axes_credentials = credentials
            return
        if not getattr(request, "axes_reserved", False):
            # Not through the reservation (a whitelisted client): axes' own counting.
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        if getattr(request, "axes_fills_limit", False):
            username = get_client_username(request, credentials)
            log.warning(
                "AXES: locking out %s from %s after repeated failures.", username, request.axes_ip_address
            )
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A correct password clears that username's failures, never its address's: one valid
        account must not wipe the count of guesses at others from the same address."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
