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
from django.db.models.signals import post_save, pre_save
from simple_history.models import HistoricalChanges

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
    # (model label, pk) -> the row as stored before the first save seen (None: created).
    originals: dict = field(default_factory=dict)
    # Models whose rows are reported as external calls rather than field changes (the outbox).
    ignored_models: tuple = ()

    def record_call(self, system: str, operation: str, payload: dict) -> dict:
        # "performed" turns true once the call returned; a call that raised keeps its error.
        call = {"system": system, "operation": operation, "payload": to_json(payload), "performed": False}
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
    try:
        result = perform()
    except Exception as exc:
        call["error"] = f"{type(exc).__name__}: {exc}"[:500]
        raise
    call["performed"] = True
    call["result"] = to_json(result) if isinstance(result, dict | list | str | int | bool) else None
    return result


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


_UNTRACKED_APPS = {"sessions", "contenttypes", "auth", "admin", "guardian"}


def _tracked(sender, recorder) -> bool:
    return not (
        recorder is None
        or issubclass(sender, HistoricalChanges)
        or issubclass(sender, recorder.ignored_models)
        or sender._meta.app_label in _UNTRACKED_APPS
    )


def _attnames(model) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields if not f.primary_key and f.attname not in _NOISE_FIELDS
    ]


def _on_pre_save(sender, instance, raw=False, **kwargs):
    # The first time a row is saved under the recorder, keep what the database held, so the
    # change is measured against the stored state whatever saved it before.
    recorder = current_recorder()
    if raw or not _tracked(sender, recorder) or instance.pk is None:
        return
    key = (_label(sender), str(instance.pk))
    if key not in recorder.originals:
        recorder.originals[key] = (
            sender._default_manager.filter(pk=instance.pk).values(*_attnames(sender)).first()
        )


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    recorder = current_recorder()
    if raw or not _tracked(sender, recorder):
        return
    key = (_label(sender), str(instance.pk))
    original = recorder.originals.setdefault(key, None)
    fields = []
    for name in _attnames(sender):
        after = getattr(instance, name)
        if original is None:
            if after not in (None, "", [], {}):
                fields.append({"field": name, "before": None, "after": after})
        elif original[name] != after:
            fields.append({"field": name, "before": original[name], "after": after})
    entry = to_json(
        {
            "model": key[0],
            "pk": instance.pk,
            "object": str(instance)[:200],
            "operation": "create" if original is None else "update",
            "fields": fields,
        }
    )
    recorder.changes[:] = [c for c in recorder.changes if (c["model"], str(c["pk"])) != key]
    if fields:
        recorder.changes.append(entry)


def record_created(instances) -> None:
    """Report rows written without save() signals (bulk_create), such as account events."""
    for instance in instances:
        _on_post_save(type(instance), instance, created=True)


pre_save.connect(_on_pre_save, dispatch_uid="opsconsole_recorder_pre_save")
post_save.connect(_on_post_save, dispatch_uid="opsconsole_recorder_post_save")
