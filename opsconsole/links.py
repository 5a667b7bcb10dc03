"""Links into the console, for pages, alerts and timelines. Empty where the console is not
mounted (a worker, a test without the admin URLs), so a missing link never breaks the caller."""

from django.urls import NoReverseMatch, reverse


def admin_url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def admin_change_url(obj) -> str:
    """The console page of one object."""
    return admin_url(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", obj.pk)


def action_run_url(run) -> str:
    return admin_url("admin:opsconsole_actionrun_change", run.pk)
