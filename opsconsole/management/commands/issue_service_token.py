"""``manage.py issue_service_token NAME --role product``: a token for a service account.

The key is printed once, as the last line, so a script can take it with ``tail -n1``.
"""

from django.core.management.base import BaseCommand, CommandError

from opsconsole import roles
from opsconsole.errors import ApplicationError
from opsconsole.history import system_user
from opsconsole.services import service_token_issue

# Tokens issued from a shell are attributed to this named system user in the history.
ISSUER = "system:cli"


class Command(BaseCommand):
    help = "Issue an API token for a service account and print its key as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A unique name for the token, e.g. the calling system.")
        parser.add_argument(
            "--role", required=True, help=f"The service user's role: one of {', '.join(roles.ALL_ROLES)}."
        )

    def handle(self, *args, name: str, role: str, **options):
        try:
            token, key = service_token_issue(name=name, role=role, actor=system_user(ISSUER))
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self.stdout.write(
            f"Issued token {token.name!r} for service user {token.user.get_username()!r} in role {role!r}."
        )
        self.stdout.write("The key is shown only once; store it now:")
        self.stdout.write(key)
