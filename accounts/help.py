"""Tier 0: where a blocked customer can fix it themselves.

The provisioning status gives ``blocking.help_url``: the help article for the blocking reason.
Help articles are support's (routing registers its finder from its ``ready()``), so accounts
asks through this registry and never imports routing. Filled at start-up, read-only after.
"""

from collections.abc import Callable

# "finder" -> a callable (reason_code, feature_area) -> the article's URL, or None.
_REGISTRY: dict[str, Callable[[str, str], str | None]] = {}


def register_finder(finder: Callable[[str, str], str | None]) -> None:
    _REGISTRY["finder"] = finder


def help_url(*, reason_code: str, feature_area: str = "") -> str | None:
    finder = _REGISTRY.get("finder")
    return finder(reason_code, feature_area) if finder else None
