"""The console form of an action: its parameters (from its input serializer) and the evidence
its runbook asks of it (``Action.evidence_asked``), all required where they are required."""

from django import forms
from rest_framework import serializers

LONG_TEXT = 300


def _form_field(field: serializers.Field) -> forms.Field:
    common = {"required": field.required, "help_text": field.help_text or ""}
    if isinstance(field, serializers.ChoiceField):
        # An optional choice starts blank: a select would otherwise submit its first option
        # and override the default the action documents.
        blank = [] if field.required else [("", "(default)")]
        return forms.ChoiceField(choices=blank + list(field.choices.items()), **common)
    if isinstance(field, serializers.IntegerField):
        return forms.IntegerField(**common)
    if isinstance(field, serializers.BooleanField):
        return forms.BooleanField(required=False, help_text=common["help_text"])
    max_length = getattr(field, "max_length", None)
    widget = forms.Textarea(attrs={"rows": 3}) if not max_length or max_length > LONG_TEXT else None
    return forms.CharField(max_length=max_length, widget=widget, **common)


def action_form_class(action, runbook) -> type[forms.Form]:
    fields = {}
    for name, field in action.Input().fields.items():
        fields[f"param_{name}"] = _form_field(field)
        fields[f"param_{name}"].label = name.replace("_", " ").capitalize()
    for item in action.evidence_asked(runbook):
        fields[f"evidence_{item['name']}"] = forms.CharField(
            label=item.get("label", item["name"]),
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=f"Evidence required by runbook {runbook.code}.",
        )
    return type(f"{action.name.title().replace('_', '')}Form", (forms.Form,), fields)


def split_cleaned(cleaned: dict) -> tuple[dict, dict]:
    # A blank optional field is a parameter not given, so the action's default applies.
    params = {
        k.removeprefix("param_"): v
        for k, v in cleaned.items()
        if k.startswith("param_") and v not in ("", None)
    }
    evidence = {k.removeprefix("evidence_"): v for k, v in cleaned.items() if k.startswith("evidence_")}
    return params, evidence
