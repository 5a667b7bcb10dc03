"""``manage.py issue_service_token NAME --role product``: a token for a service account.

The key is printed once, as the last line, so a script can take it with ``tail -n1``.

``--scopes accounts:read,events:write`` narrows a new token (default: every endpoint its role
may call); ``--expires-in-days N`` gives it an expiry. For an existing token: ``--rotate``
prints a new key and keeps the old one working for ``--overlap-minutes`` (60), ``--revoke``
ends both keys at once, and ``--scopes``/``--expires-in-days`` change it.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opsconsole import roles
from opsconsole.api.scopes import all_scopes
from opsconsole.errors import ApplicationError
from opsconsole.history import system_user
from opsconsole.models import ServiceToken
from opsconsole.services import (
    service_token_issue,
    service_token_revoke,
    service_token_rotate,
    service_token_update,
)

# Tokens issued from a shell are attributed to this named system user in the history.
ISSUER = "system:cli"


def _scope_list(raw: str | None) -> list[str] | None:
    return None if raw is None else [s.strip() for s in raw.split(",") if s.strip()]


class Command(BaseCommand):
    help = "Issue, rotate, rescope or revoke an API token for a service account; a new key is the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A unique name for the token, e.g. the calling system.")
        parser.add_argument(
            "--role", help=f"New tokens: the service user's role, one of {', '.join(roles.ALL_ROLES)}."
        )
        parser.add_argument("--scopes", help="Comma-separated scopes (default for a new token: its role's).")
        parser.add_argument(
            "--expires-in-days", type=float, help="The token stops working after this many days."
        )
        parser.add_argument("--rotate", action="store_true", help="Give an existing token a new key.")
        parser.add_argument(
            "--overlap-minutes",
            type=float,
            default=60.0,
            help="With --rotate: how long the old key still works.",
        )
        parser.add_argument("--revoke", action="store_true", help="Revoke an existing token (both keys).")
        parser.add_argument(
            "--list-scopes", action="store_true", help="Print the scopes endpoints declare, and stop."
        )

    def handle(self, *args, name: str, role: str | None, **options):
        if options["list_scopes"]:
            self.stdout.write("\n".join(all_scopes()))
            return
        actor = system_user(ISSUER)
        scopes = _scope_list(options["scopes"])
        days = options["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days is not None else None
        try:
            if (
                options["rotate"]
                or options["revoke"]
                or (role is None and (scopes is not None or days is not None))
            ):
                self._change(name, scopes, days, expires_at, options, actor)
                return
            if role is None:
                raise CommandError("--role is required to issue a new token.")
            token, key = service_token_issue(
                name=name, role=role, scopes=scopes, expires_at=expires_at, actor=actor
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self.stdout.write(
            f"Issued token {token.name!r} for service user {token.user.get_username()!r} in role {role!r}, "
            f"scopes: {', '.join(token.scopes) or 'none'}."
        )
        self.stdout.write("The key is shown only once; store it now:")
        self.stdout.write(key)

    def _change(self, name, scopes, days, expires_at, options, actor):
        token = ServiceToken.objects.filter(name=name).first()
        if token is None:
            raise CommandError(f"No service token named {name!r}.")
        if options["revoke"]:
            service_token_revoke(token=token, actor=actor)
            self.stdout.write(f"Revoked token {name!r}; neither of its keys works any more.")
            return
        if scopes is not None or days is not None:
            token = service_token_update(
                token=token, scopes=scopes, expires_at=expires_at if days is not None else ..., actor=actor
            )
            scoped = ", ".join(token.scopes) or "none"
            self.stdout.write(f"Token {name!r}: scopes {scoped}, expires {token.expires_at or 'never'}.")
        if options["rotate"]:
            overlap = timedelta(minutes=options["overlap_minutes"])
            token, key = service_token_rotate(token=token, overlap=overlap, actor=actor)
            self.stdout.write(
                f"Rotated token {name!r}; the old key ({token.previous_key_prefix}…) works until "
                f"{token.previous_key_expires_at or 'now (no overlap)'}."
            )
            self.stdout.write("The new key is shown only once; store it now:")
            self.stdout.write(key)
