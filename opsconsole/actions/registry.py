"""The guarded-action declaration and the registry every entry point looks actions up in."""

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import models
from rest_framework import serializers

from opsconsole.actions import targets
from opsconsole.actions.recorder import to_json
from opsconsole.errors import NotFound, ValidationFailed

_REGISTRY: dict[str, "Action"] = {}

# Staff minutes one run of an action costs when the action does not say (Action.handling_minutes).
DEFAULT_HANDLING_MINUTES = 5


@dataclass
class ActionContext:
    """Everything an action's checks and effect may look at."""

    action: "Action"
    target: models.Model
    params: dict
    actor: Any
    evidence: dict = field(default_factory=dict)
    runbook: Any = None
    run: Any = None  # the ActionRun; None in a dry run
    dry_run: bool = False
    reversal_of: Any = None  # the ActionRun being reversed, for a reversal


class Action(ABC):
    """One guarded action. Subclasses declare what the framework enforces.

    - ``name`` and ``target_model`` (``"app_label.ModelName"``, registered with
      ``opsconsole.actions.targets`` by its app);
    - ``roles``: the roles that may run it. Its permission is ``opsconsole.run_<name>``,
      created after migrate for every registered action and given to those roles; the object
      rule is that the actor may see the target (``restrict``, which honours guardian grants);
    - ``extra_permissions``: further permissions the action checks itself, with their roles;
    - ``Input``: a DRF serializer for the parameters;
    - ``check(ctx)``: preconditions, raising an ``ApplicationError`` to refuse;
    - ``perform(ctx)``: the effect, calling services; returns a small result dict;
    - ``approval_reason(ctx)``: why it needs a second person, or None;
    - ``reversible`` and ``reverse_external(ctx)``: a reversal restores the fields the run
      changed and undoes what else it did outside this database;
    - ``state(target)``: what must not change between a preview and its commit;
    - ``derived_state(target)``: computed values worth diffing in a preview (entitlements);
    - ``takes_runbook_evidence``: whether its runbook's required evidence is asked of it;
    - ``handling_minutes``: the staff time one run by a person costs, for the
      ``manual_minutes_per_account`` metric (METRICS.md). An action whose effect resolves an
      exception declares only the time beyond that exception's reason code's
      ``estimated_handling_minutes``, which the resolution counts already. After changing a
      figure, run ``manage.py rebuild_account_facts`` so past runs are counted with it.

    The idempotency key is the caller's submission key (a reviewed preview, an
    ``Idempotency-Key`` header, a Celery caller's key), stored under a unique constraint.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    target_model: ClassVar[str]
    roles: ClassVar[tuple[str, ...]] = ()
    # codename -> (description, roles), e.g. engineering's leave to restart an import again.
    extra_permissions: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}
    reversible: ClassVar[bool] = False
    Input: ClassVar[type[serializers.Serializer]] = serializers.Serializer
    handling_minutes: ClassVar[int] = DEFAULT_HANDLING_MINUTES
    # Working a case (acknowledging it, waiting on the customer, reassigning it) fixes nothing,
    # so every runbook allows it; a runbook's ``allowed_actions`` lists the fixes.
    works_the_case: ClassVar[bool] = False
    # Whether a run under a runbook must fill the runbook's ``evidence_required``: the evidence
    # is what a fix (or a resolution) rests on. A status move (acknowledging, waiting on the
    # customer, reassigning) fixes nothing and asks for what it needs in its own ``Input``
    # (a note, a reason), so it declares False.
    takes_runbook_evidence: ClassVar[bool] = True
    # Whether a page may run ``check`` to grey out a button whose check fails now; False for a
    # check that calls another system (Stripe), which only a submitted form should wait for.
    checked_on_page: ClassVar[bool] = True

    @property
    def permission(self) -> str:
        return f"opsconsole.run_{self.name}"

    def validate(self, params: dict | None) -> dict:
        serializer = self.Input(data=params or {})
        if not serializer.is_valid():
            raise ValidationFailed(
                "invalid_parameters", f"The parameters for {self.name} are invalid.", serializer.errors
            )
        return to_json(dict(serializer.validated_data))

    def lock(self, target):
        """Fetch the target again, locked for the rest of the transaction."""
        return type(target).objects.select_for_update().get(pk=target.pk)

    def account_of(self, target):
        """The account a run on ``target`` is recorded against, as its app registered it."""
        return targets.target_for(target).account_of(target)

    def applies_to(self, target) -> bool:
        """Whether to offer the action on this target at all (buttons, runbook lists)."""
        return True

    def check(self, ctx: ActionContext) -> None:
        return None

    def approval_reason(self, ctx: ActionContext) -> str | None:
        return None

    @abstractmethod
    def perform(self, ctx: ActionContext) -> dict:
        """The effect; ``register`` refuses a class that does not define it."""

    def reverse_external(self, ctx: ActionContext) -> None:
        """Undo what the original run did outside the restored fields (Stripe, events)."""
        return None

    def state(self, target) -> dict:
        return {f.attname: getattr(target, f.attname) for f in target._meta.concrete_fields}

    def derived_state(self, target) -> dict:
        return {}

    def evidence_asked(self, runbook) -> list[dict]:
        """The evidence fields (``[{"name", "label"}]``) a run under ``runbook`` must fill."""
        if runbook is None or not self.takes_runbook_evidence:
            return []
        return list(runbook.evidence_required)

    def fingerprint(self, target) -> str:
        encoded = json.dumps(to_json(self.state(target)), sort_keys=True)
        return hashlib.sha256(encoded.encode()).hexdigest()


def register(cls: type[Action]) -> type[Action]:
    _REGISTRY[cls.name] = cls()
    return cls


@dataclass(frozen=True)
class ActionPermission:
    """A permission of the ``opsconsole`` app that a registered action brings."""

    codename: str
    description: str
    roles: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"opsconsole.{self.codename}"


def action_permissions() -> list[ActionPermission]:
    """Every permission the registered actions declare, with the roles that hold it."""
    declared = []
    for action in all_actions():
        declared.append(
            ActionPermission(f"run_{action.name}", f"Can run the {action.name} action", action.roles)
        )
        declared.extend(
            ActionPermission(codename, description, roles)
            for codename, (description, roles) in action.extra_permissions.items()
        )
    return declared


def get_action(name: str) -> Action:
    action = _REGISTRY.get(name)
    if action is None:
        raise NotFound(
            "unknown_action", f"There is no action named {name!r}.", {"actions": sorted(_REGISTRY)}
        )
    return action


def handling_minutes_of(name: str) -> int:
    """The declared handling minutes of the action ``name``; the default for a name no longer
    registered (a run recorded before its action was removed)."""
    action = _REGISTRY.get(name)
    return action.handling_minutes if action is not None else DEFAULT_HANDLING_MINUTES


def action_label(name: str) -> str:
    """What people call the action ``name`` ("Restart import"), also for a name no longer
    registered; never the code name with its underscore."""
    action = _REGISTRY.get(name)
    return action.label if action is not None else name.replace("_", " ").capitalize()


def all_actions() -> list[Action]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def actions_for_model(label: str) -> list[Action]:
    return [a for a in all_actions() if a.target_model == label]
