"""Panels that higher layers add to routing's pages.

Routing sits below reports and may not import it, yet the weekly rule review is where a lead
reads the engineering escalation rate beside the rules. So reports registers a panel here from
its ``AppConfig.ready()``, and the page renders whatever is registered, in registration order.
The registry is filled at start-up and read-only afterwards, the same in every process.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

RULE_REVIEW = "rule_review"
PAGES = (RULE_REVIEW,)

Panel = Callable[[HttpRequest], SafeString]
_PANELS: dict[str, list[Panel]] = {page: [] for page in PAGES}


def register(page: str, panel: Panel) -> Panel:
    """Add ``panel`` (a request in, rendered HTML out) to ``page``."""
    if page not in _PANELS:
        raise LookupError(f"Routing has no page {page!r} for panels; it has {', '.join(PAGES)}.")
    if panel not in _PANELS[page]:
        _PANELS[page].append(panel)
    return panel


def render(page: str, request: HttpRequest) -> list[SafeString]:
    return [panel(request) for panel in _PANELS[page]]
