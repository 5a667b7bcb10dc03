"""Accounts' panels on the framework's pages (opsconsole/panels.py)."""

from django.template.loader import render_to_string
from django.utils import timezone

from accounts.selectors import team_exception_counts


def home_team_exceptions_panel(request, **_page) -> str:
    """On the console's home: the exceptions of the user's teams that nobody owns yet."""
    return render_to_string(
        "accounts/home_team_exceptions_panel.html",
        {"teams": team_exception_counts(request.user, now=timezone.now())},
        request=request,
    )
