"""Panels that a higher layer adds to a lower layer's page.

A page owned by a lower layer (the account page in accounts, the rule review in routing) shows
what higher layers know about its subject (an account's tickets, the escalation rate), yet it
may not import them. So the owner declares the page from its ``AppConfig.ready()``, a higher
app registers a panel for it from its own ``ready()``, and the page renders whatever is
registered, in registration order. The registry is filled at start-up and read-only
afterwards, the same in every process.

A panel is a callable ``panel(request, **context) -> HTML`` (context: whatever the page passes,
such as ``account``). Templates render a page's panels with
``{% load console_panels %}{% page_panels "accounts.account" account=original %}``.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[..., str]
_PANELS: dict[str, list[Panel]] = {}


def declare_page(page: str) -> None:
    """Called by the page's owner, so that a panel registered for a misspelt page fails loudly."""
    _PANELS.setdefault(page, [])


def register(page: str, panel: Panel) -> Panel:
    if page not in _PANELS:
        raise LookupError(f"No page {page!r} takes panels; declared pages: {', '.join(sorted(_PANELS))}.")
    if panel not in _PANELS[page]:
        _PANELS[page].append(panel)
    return panel


def render(page: str, request: HttpRequest, **context) -> list[SafeString]:
    # Panels render their own templates, which escape what they show.
    return [mark_safe(panel(request, **context)) for panel in _PANELS.get(page, [])]  # noqa: S308
