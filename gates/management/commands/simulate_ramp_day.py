"""``manage.py simulate_ramp_day --channel CODE --date D --signups N --activation 0.4``: a day of
signups on a channel through the accounts services, with that share activating."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Channel
from gates.services import ramp_day_simulate
from opsconsole.errors import ApplicationError
from opsconsole.history import system_user

ACTOR = "system:simulator"


class Command(BaseCommand):
    help = "Create a day of signups on a channel (accounts and their events), with a share activating."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True)
        parser.add_argument("--date", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--signups", type=int, required=True)
        parser.add_argument("--activation", type=float, required=True, help="share activating, 0..1")
        parser.add_argument("--shape", default="free_trial")

    def handle(self, *args, **options):
        channel = Channel.objects.filter(code=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No channel {options['channel']!r}.")
        try:
            day = datetime.strptime(options["date"], "%Y-%m-%d").date()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}.") from exc
        try:
            result = ramp_day_simulate(
                channel=channel,
                day=day,
                signups=options["signups"],
                activation=options["activation"],
                shape=options["shape"],
                actor=system_user(ACTOR),
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self.stdout.write(
            f"simulate_ramp_day: {channel.code} {day}: {result['created']} accounts created "
            f"({result['skipped']} already there), {result['activating']} of {result['signups']} activating"
        )
