"""Reads of staff sign-in: someone's second factors, their recent sign-in activity, the current
lockouts, and the audit as CSV rows."""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from opsconsole.staffauth.models import Lockout, LoginEvent


@dataclass(frozen=True)
class SecondFactors:
    authenticator_apps: list[TOTPDevice]
    passkeys: list[WebAuthnCredential]
    recovery_codes_left: int


def describe_second_factors(*, apps: int, passkeys: int, recovery_codes: int) -> str:
    """ "authenticator app, 2 passkeys, 10 recovery codes", or "" for none."""
    parts = []
    if apps:
        parts.append("authenticator app")
    if passkeys:
        parts.append(f"{passkeys} passkey{'s' if passkeys != 1 else ''}")
    if recovery_codes:
        parts.append(f"{recovery_codes} recovery codes")
    return ", ".join(parts)


def second_factors_of(user) -> SecondFactors:
    return SecondFactors(
        authenticator_apps=list(TOTPDevice.objects.filter(user=user, confirmed=True)),
        passkeys=list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")),
        recovery_codes_left=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    )


def recent_sign_in_activity(user, *, limit: int = 10) -> list[LoginEvent]:
    """The user's own latest sign-in events (anyone may read their own)."""
    return list(LoginEvent.objects.restrict(user).filter(user=user).select_related("actor")[:limit])


def lock_window_start() -> datetime:
    return timezone.now() - get_cool_off()


def lockouts_visible_to(user):
    """Attempt rows still counting (their last failure inside the window), newest first."""
    return Lockout.objects.restrict(user).filter(attempt_time__gte=lock_window_start())


def locked_totals(*, usernames: Iterable[str], ip_addresses: Iterable[str]) -> tuple[dict, dict]:
    """Failures in the window per username and per address, for the rows on a page."""
    counting = Lockout.objects.filter(attempt_time__gte=lock_window_start())
    by_username = dict(
        counting.filter(username__in=list(usernames))
        .values("username")
        .annotate(n=Sum("failures_since_start"))
        .values_list("username", "n")
    )
    by_ip = dict(
        counting.filter(ip_address__in=list(ip_addresses))
        .values("ip_address")
        .annotate(n=Sum("failures_since_start"))
        .values_list("ip_address", "n")
    )
    return by_username, by_ip


def is_locked(failures: int | None) -> bool:
    return (failures or 0) >= settings.AXES_FAILURE_LIMIT


CSV_COLUMNS = ("time", "event", "username", "user_id", "actor", "ip_address", "user_agent", "detail")
# A cell a spreadsheet would read as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def login_events_csv(events) -> Iterator[str]:
    """The audit as CSV lines, read in chunks so an export of any size streams in flat memory.
    Usernames and user agents come from whoever knocked: a cell that would run as a
    spreadsheet formula is quoted with a leading apostrophe."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = events.select_related("actor").order_by("-at", "-id")
    for event in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.at.isoformat(),
                event.kind,
                _cell(event.username),
                event.user_id or "",
                _cell(event.actor.get_username() if event.actor else ""),
                event.ip_address or "",
                _cell(event.user_agent),
                _cell(json.dumps(event.detail, sort_keys=True)),
            ]
        )
