"""manage.py reconcile stripe|crm|all: run (or resume) reconciliation here, printing progress."""

from django.core.management.base import BaseCommand, CommandError

from accounts.billing import describe_progress, reconciliation_execute, reconciliation_start
from accounts.choices import ReconciliationMode, ReconciliationStatus, ReconciliationTarget
from opsconsole.history import SYSTEM_RECONCILER, system_user


class Command(BaseCommand):
    help = "Compare Stripe and/or the CRM with the accounts; drift becomes exceptions."

    def add_arguments(self, parser):
        parser.add_argument("target", choices=[*ReconciliationTarget.values, "all"])
        parser.add_argument(
            "--mode",
            choices=ReconciliationMode.values,
            help="Default: full when the last full scan is a day old, else incremental (Stripe).",
        )

    def handle(self, *args, target, mode, **options):
        targets = ReconciliationTarget.values if target == "all" else [target]
        failed = []
        for name in targets:
            run, created = reconciliation_start(target=name, mode=mode, actor=system_user(SYSTEM_RECONCILER))
            verb = "Started" if created else f"Resuming (from phase {run.phase!r})"
            self.stdout.write(
                f"{verb} {run.get_mode_display().lower()} reconciliation of {name}: run #{run.pk}"
            )
            run = reconciliation_execute(
                run, progress=lambda r: self.stdout.write("  " + describe_progress(r))
            )
            line = describe_progress(run)
            if run.status == ReconciliationStatus.COMPLETED:
                self.stdout.write(self.style.SUCCESS(f"Completed {line} in {run.duration}"))
            else:
                self.stdout.write(self.style.ERROR(f"Failed {line}: {run.last_error}"))
                failed.append(name)
        if failed:
            raise CommandError(f"Reconciliation failed for {', '.join(failed)}")
