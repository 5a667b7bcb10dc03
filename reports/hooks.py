"""What higher layers plug into reports' snapshot runs, registered from their ``ready()``
(reports may not import them). Plain lists filled at start-up, read-only afterwards.

- ``register_ramping_channels(provider)``: ``provider()`` returns the codes of the channels
  that are ramping now; the hourly task snapshots those (gates' ramp plans will say which).
- ``register_after_snapshot(callback)``: ``callback(periods=[date, ...], channels=[code, ...]
  or None for all, now=datetime)`` runs after each snapshot run has written its rows (gates:
  evaluate the stop rules on the fresh numbers).
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime

RampingProvider = Callable[[], Iterable[str]]
AfterSnapshot = Callable[..., None]

_RAMPING: list[RampingProvider] = []
_AFTER_SNAPSHOT: list[AfterSnapshot] = []


def register_ramping_channels(provider: RampingProvider) -> RampingProvider:
    if provider not in _RAMPING:
        _RAMPING.append(provider)
    return provider


def register_after_snapshot(callback: AfterSnapshot) -> AfterSnapshot:
    if callback not in _AFTER_SNAPSHOT:
        _AFTER_SNAPSHOT.append(callback)
    return callback


def ramping_channels() -> list[str]:
    """The codes of every channel some provider says is ramping, each once."""
    return sorted({code for provider in _RAMPING for code in provider()})


def after_snapshot(*, periods: list[date], channels: list[str] | None, now: datetime) -> None:
    for callback in _AFTER_SNAPSHOT:
        callback(periods=periods, channels=channels, now=now)
