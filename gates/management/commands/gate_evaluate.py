"""``manage.py gate_evaluate --channel CODE [--as USERNAME]``: evaluate the six checks of the
channel's latest gate review (opening one if there is none) and print them."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Channel
from gates.choices import ReviewKind
from gates.models import GateReview
from gates.selectors import evaluation_tally, live_plan
from gates.services import review_evaluate, review_open
from opsconsole.errors import ApplicationError


class Command(BaseCommand):
    help = "Evaluate the six gate checks of a channel's review and print them."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True)
        parser.add_argument(
            "--as", dest="username", help="who evaluates (default: the plan's executive owner)"
        )

    def handle(self, *args, **options):
        channel = Channel.objects.filter(code=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No channel {options['channel']!r}.")
        plan = live_plan(channel)
        if plan is None:
            raise CommandError(f"{channel.code} has no ramp plan.")
        actor = plan.executive_owner
        if options.get("username"):
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No user {options['username']!r}.")
        try:
            review = GateReview.objects.filter(plan=plan, kind=ReviewKind.GATE).order_by("-opened_at").first()
            review = review or review_open(plan=plan, actor=actor)
            evaluation = review_evaluate(review=review, actor=actor)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self.stdout.write(
            f"gate_evaluate: {channel.code} review #{review.pk}, evaluation #{evaluation.pk} "
            f"({evaluation.since} to {evaluation.until}, as of {evaluation.evaluated_at:%Y-%m-%d %H:%M} UTC)"
        )
        for check in evaluation.checks.order_by("id"):
            self.stdout.write(f"  {'PASS' if check.passed else 'FAIL'}  {check.code:<14} {check.summary}")
            for gap in check.missing[:5]:
                self.stdout.write(f"        missing: {gap}")
        tally = evaluation_tally(evaluation)
        self.stdout.write(
            f"  {tally['passed']} of {tally['total']} passed ({tally['overridden']} overridden): "
            f"limited ramp {'eligible' if tally['limited_ramp_eligible'] else 'not eligible'} (4 of 6); "
            f"board-level target {'eligible' if tally['board_target_eligible'] else 'not eligible'} (6 of 6)"
        )
