"""What an action did, captured while it runs: field changes and the external calls it made.

In a dry run the same recorder replaces Stripe, the CRM, product commands and alerts: calls
are listed, not made, and the surrounding transaction is rolled back afterwards.
"""

import contextvars
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import post_save
from simple_history.models import HistoricalChanges, registered_models
from simple_history.signals import post_create_historical_record

_active: contextvars.ContextVar = contextvars.ContextVar("opsconsole_effect_recorder", default=None)

# Fields that change on every save and say nothing about what the action did.
_NOISE_FIELDS = {"updated_at"}


def to_json(value: Any) -> Any:
    """A JSON-safe copy (datetimes and UUIDs as strings), so previews and runs can store it."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@dataclass
class EffectRecorder:
    dry_run: bool
    changes: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    # Models whose rows are reported as external calls rather than field changes (the outbox).
    ignored_models: tuple = ()

    def record_call(self, system: str, operation: str, payload: dict) -> dict:
        call = {"system": system, "operation": operation, "payload": to_json(payload)}
        call["performed"] = not self.dry_run
        self.calls.append(call)
        return call


def current_recorder() -> EffectRecorder | None:
    return _active.get()


@contextmanager
def recording(recorder: EffectRecorder):
    token = _active.set(recorder)
    try:
        yield recorder
    finally:
        _active.reset(token)


def external_call(system: str, operation: str, payload: dict, perform):
    """Make (or, in a dry run, only list) one call to a system outside this database.

    ``perform`` is a no-argument callable doing the real call; its result is returned. In a
    dry run it is not called and None is returned.
    """
    recorder = current_recorder()
    if recorder is None:
        return perform()
    call = recorder.record_call(system, operation, payload)
    if recorder.dry_run:
        return None
    result = perform()
    call["result"] = to_json(result) if isinstance(result, dict | list | str | int | bool) else None
    return result


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _diff_history(history_instance) -> list[dict]:
    model = history_instance.instance_type
    previous = history_instance.prev_record if history_instance.history_type != "+" else None
    excluded = set(getattr(history_instance, "_history_excluded_fields", []) or [])
    changes = []
    for model_field in model._meta.concrete_fields:
        name = model_field.attname
        if name in _NOISE_FIELDS or name in excluded or model_field.primary_key:
            continue
        after = getattr(history_instance, name, None)
        before = getattr(previous, name, None) if previous is not None else None
        if previous is not None and before == after:
            continue
        if previous is None and after in (None, "", [], {}):
            continue
        changes.append({"field": name, "before": before, "after": after})
    return changes


def _on_history(sender, instance, history_instance, **kwargs):
    recorder = current_recorder()
    if recorder is None or isinstance(instance, recorder.ignored_models):
        return
    fields = _diff_history(history_instance)
    if not fields and history_instance.history_type == "~":
        return
    recorder.changes.append(
        to_json(
            {
                "model": _label(type(instance)),
                "pk": instance.pk,
                "object": str(instance)[:200],
                "operation": {"+": "create", "~": "update", "-": "delete"}[history_instance.history_type],
                "fields": fields,
            }
        )
    )


def _on_save_unaudited(sender, instance, created, **kwargs):
    # Audited models are reported through their history rows; this catches append-only rows
    # (account events) that have no history of their own.
    recorder = current_recorder()
    if recorder is None or not created or isinstance(instance, recorder.ignored_models):
        return
    if issubclass(sender, HistoricalChanges) or sender._meta.db_table in registered_models:
        return
    if sender._meta.app_label in {"sessions", "contenttypes", "auth", "admin"}:
        return
    fields = [
        {"field": f.attname, "before": None, "after": getattr(instance, f.attname)}
        for f in sender._meta.concrete_fields
        if not f.primary_key and getattr(instance, f.attname) not in (None, "", [], {})
    ]
    recorder.changes.append(
        to_json(
            {
                "model": _label(sender),
                "pk": instance.pk,
                "object": str(instance)[:200],
                "operation": "create",
                "fields": fields,
            }
        )
    )


post_create_historical_record.connect(_on_history, dispatch_uid="opsconsole_recorder_history")
post_save.connect(_on_save_unaudited, dispatch_uid="opsconsole_recorder_unaudited")
