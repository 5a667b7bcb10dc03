"""Where outbox messages go: a registry of destinations, so the outbox names none.

The framework registers the product (a signed POST to ``PRODUCT_WEBHOOK_URL``); an app
registers its own from its ``AppConfig.ready()`` (accounts registers the CRM). Like every
registry here it is filled at start-up and read only afterwards, so it is the same in every
process. This module imports no model: ``OutboxMessage.destination`` takes its choices from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PRODUCT = "product"


@dataclass(frozen=True)
class Destination:
    name: str
    label: str
    # How this process delivers a message to it: ``sender()`` returns a callable that makes
    # one attempt (message -> ``opsconsole.outbox.Attempt``), or None when the destination is
    # not configured here, in which case the message is logged and marked ``not_configured``.
    sender: Callable[[], Callable | None]


_DESTINATIONS: dict[str, Destination] = {}


def register(name: str, *, label: str, sender: Callable[[], Callable | None]) -> Destination:
    destination = _DESTINATIONS[name] = Destination(name, label, sender)
    return destination


def destination_for(name: str) -> Destination:
    try:
        return _DESTINATIONS[name]
    except KeyError:
        raise LookupError(
            f"{name!r} is not a registered outbox destination; register it from its app's ready()."
        ) from None


def destination_names() -> list[str]:
    return sorted(_DESTINATIONS)


def destination_choices() -> list[tuple[str, str]]:
    """``OutboxMessage.destination``'s choices (a callable, so no migration follows a new one)."""
    return [(name, _DESTINATIONS[name].label) for name in destination_names()]
