"""Attribution of every change: who did it, whether a person, a service token or the system.

Services run inside ``acting_as(actor)``; simple-history reads the actor from here, so
history rows carry ``history_user`` whether the write came from the console, the API (where
DRF authenticates after the history middleware ran) or a Celery task.
"""

import contextvars
import functools
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

_current_actor: contextvars.ContextVar = contextvars.ContextVar("opsconsole_actor", default=None)

# Every system user's name starts with this (and the user is inactive): work done by the
# system, not by a person.
SYSTEM_USER_PREFIX = "system:"
SYSTEM_RECONCILER = "system:reconciler"
SYSTEM_SEEDER = "system:seeder"
SYSTEM_SCHEDULER = "system:scheduler"
SYSTEM_INTAKE = "system:intake"
# A service token's user is named this plus the token's name: a system calling the API, not a
# person (reads that tell people from systems import it from here, not from the services).
SERVICE_USER_PREFIX = "service:"


@contextmanager
def acting_as(actor):
    token = _current_actor.set(actor)
    try:
        yield actor
    finally:
        _current_actor.reset(token)


def current_actor():
    return _current_actor.get()


def _history_user(instance, request, **kwargs):
    actor = _current_actor.get()
    if actor is not None:
        return actor
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    return None


class AuditedHistoryManager(HistoryManager):
    """simple-history builds a new manager class (``from_queryset``) on every ``.history``
    access, including once per saved row; that was a quarter of the CPU of a write-heavy
    service. The class depends only on its arguments, so build it once per arguments."""

    _classes: dict = {}

    @classmethod
    def from_queryset(cls, queryset_class, class_name=None):
        key = (cls, queryset_class, class_name)
        built = cls._classes.get(key)
        if built is None:
            built = cls._classes[key] = super().from_queryset(queryset_class, class_name)
        return built


def audited_history(**kwargs) -> HistoricalRecords:
    """simple-history for a domain model, attributed through ``acting_as``."""
    kwargs.setdefault("get_user", _history_user)
    kwargs.setdefault("history_manager", AuditedHistoryManager)
    return HistoricalRecords(**kwargs)


def system_user(name: str):
    """The named system user (``system:reconciler`` ...) that background work acts as."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=name, defaults={"is_active": False, "first_name": "System", "last_name": name}
    )
    return user


def service(fn):
    """Run a service in one transaction, attributed to its ``actor`` keyword argument."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "actor" not in kwargs:
            raise TypeError(f"{fn.__name__}() needs actor=")
        with transaction.atomic(), acting_as(kwargs["actor"]):
            return fn(*args, **kwargs)

    return wrapper
