"""The console pages for accounts; being split by page."""

from accounts.admin import accounts  # noqa: F401  (registers the ModelAdmins)
