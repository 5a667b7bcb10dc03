"""Pages an app adds to its own section of the console's index and sidebar, beside its models:
a dashboard is not a model, yet people look for it under its app ("Reports").

An app registers from its ``AppConfig.ready()``: ``register("reports", "Channel dashboard",
"reports:dashboard", permission="reports.view_dashboard")``; the admin site lists the pages a
user holds the permission for. Filled at start-up, read-only afterwards.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class AppPage:
    name: str
    url_name: str
    permission: str


_PAGES: dict[str, list[AppPage]] = {}


def register(app_label: str, name: str, url_name: str, *, permission: str) -> None:
    pages = _PAGES.setdefault(app_label, [])
    page = AppPage(name, url_name, permission)
    if page not in pages:
        pages.append(page)


def entries(app_label: str, user) -> list[dict]:
    """The app's pages ``user`` may open, as rows of the admin's app list (view-only links)."""
    found = []
    for page in _PAGES.get(app_label, ()):
        if not user.has_perm(page.permission):
            continue
        try:
            url = reverse(page.url_name)
        except NoReverseMatch:
            continue
        found.append(
            {
                "name": page.name,
                "object_name": page.url_name.replace(":", "_"),
                "admin_url": url,
                "add_url": None,
                "view_only": True,
                "perms": {"view": True, "add": False, "change": False, "delete": False},
            }
        )
    return found


def all_pages() -> list[AppPage]:
    """Every registered page, whoever may open it (the browser walks use it)."""
    return [page for pages in _PAGES.values() for page in pages]
