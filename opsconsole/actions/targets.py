"""What guarded actions may act on: the apps register their target models here.

The framework never names a domain model. An app registers each model its actions target from
its ``AppConfig.ready()``::

    targets.register(Account, public_id="external_id", account_of=lambda a: a)
    targets.register(OpsException, account_of=lambda e: e.account, runbook_cases=lambda e: [e],
                     fix_applied=exception_fix_applied)

and the framework asks the registry how to find a target from a request, whom a run is
recorded against, and which runbooks govern it. The registry is filled at start-up and read
only afterwards, so it is the same in every process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

from opsconsole.errors import NotFound


def _no_account(_target) -> None:
    return None


def _no_cases(_target) -> list:
    return []


def _nothing(_case, _action, _actor) -> None:
    return None


@dataclass(frozen=True)
class ActionTarget:
    model: type[models.Model]
    # The field an API caller names a target by (an account's external id, an exception's pk).
    public_id: str = "pk"
    # The account a run on this target is recorded against (timelines, metrics), or None.
    account_of: Callable[[models.Model], models.Model | None] = _no_account
    # The cases (open exceptions, say) whose runbooks may govern an action on this target.
    runbook_cases: Callable[[models.Model], Iterable[models.Model]] = _no_cases
    # For a case: what a fix its runbook allows does to it when run on another target (its
    # account): the first response, and the state it waits in for the success event.
    fix_applied: Callable[[models.Model, object, object], None] = _nothing

    @property
    def label(self) -> str:
        return self.model._meta.label

    def visible_to(self, user, action: str = "view") -> models.QuerySet:
        return self.model.objects.restrict(user, action)

    def allows(self, user, target, action: str = "view") -> bool:
        return self.model.objects.allows(user, target, action)

    def public_id_of(self, target) -> str:
        return str(getattr(target, self.public_id))

    def get(self, *, public_id: str, user):
        """The target ``public_id`` names, among those ``user`` may see; else ``NotFound``."""
        return self._first(self.visible_to(user), self.public_id, public_id)

    def get_by_pk(self, *, pk, user):
        """The target with this primary key, among those ``user`` may see; else ``NotFound``."""
        return self._first(self.visible_to(user), "pk", pk)

    def _first(self, queryset: models.QuerySet, field: str, value):
        meta = self.model._meta
        column = meta.pk if field == "pk" else meta.get_field(field)
        shown = value
        try:
            value = column.to_python(value)
        except ValidationError:  # a malformed id: the same answer as a missing one
            value = None
        target = queryset.filter(**{field: value}).first() if value not in (None, "") else None
        if target is None:
            raise NotFound("target_not_found", f"No {meta.verbose_name} {shown!r} you can see.")
        return target


_TARGETS: dict[str, ActionTarget] = {}


def register(
    model: type[models.Model],
    *,
    public_id: str = "pk",
    account_of: Callable[[models.Model], models.Model | None] = _no_account,
    runbook_cases: Callable[[models.Model], Iterable[models.Model]] = _no_cases,
    fix_applied: Callable[[models.Model, object, object], None] = _nothing,
) -> ActionTarget:
    if not hasattr(model.objects, "restrict"):
        raise TypeError(f"{model._meta.label} needs a RestrictedQuerySet manager to be an action target.")
    target = ActionTarget(model, public_id, account_of, runbook_cases, fix_applied)
    _TARGETS[target.label] = target
    return target


def target_for(label_or_model) -> ActionTarget:
    label = label_or_model if isinstance(label_or_model, str) else label_or_model._meta.label
    try:
        return _TARGETS[label]
    except KeyError:
        raise LookupError(
            f"{label} is not a registered action target; register it from its app's ready()."
        ) from None


def all_targets() -> list[ActionTarget]:
    return [_TARGETS[label] for label in sorted(_TARGETS)]
