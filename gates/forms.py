"""Console forms of gates: they parse what people type; the services decide."""

from datetime import date

from django import forms
from django.contrib.auth import get_user_model

from gates.choices import Outcome


def _lines(text: str, parts: int, what: str) -> list[list[str]]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != parts:
            raise forms.ValidationError(f"{what}, line {n}: {parts} parts separated by |.")
        rows.append(cells)
    return rows


class DecisionDraftForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    attendees = forms.CharField(help_text="Comma-separated names.")
    expected_volume = forms.IntegerField(min_value=0, help_text="Expected weekly signups.")
    next_step = forms.CharField(required=False, help_text="Proceed: the next volume step's label.")
    review_date = forms.DateField(required=False, help_text="Proceed: YYYY-MM-DD.")
    fixes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: reason code | owner username | due YYYY-MM-DD | success metric",
    )
    restart_conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Pause, one per line: metric | above or below | value | consecutive days",
    )

    def clean_attendees(self):
        return [a.strip() for a in self.cleaned_data["attendees"].split(",") if a.strip()]

    def clean_fixes(self):
        users = get_user_model().objects
        fixes = []
        for code, username, due, metric in _lines(self.cleaned_data["fixes"], 4, "Fixes"):
            owner = users.filter(username=username).first()
            if owner is None:
                raise forms.ValidationError(f"No user {username!r}.")
            try:
                due_date = date.fromisoformat(due)
            except ValueError as exc:
                raise forms.ValidationError(f"Due date {due!r} is not YYYY-MM-DD.") from exc
            fixes.append(
                {"reason_code": code, "owner": owner, "due_date": due_date, "success_metric": metric}
            )
        return fixes

    def clean_restart_conditions(self):
        out = []
        for metric, comparator, value, days in _lines(
            self.cleaned_data["restart_conditions"], 4, "Conditions"
        ):
            try:
                out.append(
                    {
                        "metric": metric,
                        "comparator": comparator,
                        "value": float(value),
                        "consecutive_days": int(days),
                    }
                )
            except ValueError as exc:
                raise forms.ValidationError(
                    "A condition's value is a number and its days a whole number."
                ) from exc
        return out


class OverrideForm(forms.Form):
    result = forms.IntegerField(widget=forms.HiddenInput)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ShipForm(forms.Form):
    constraint = forms.IntegerField(widget=forms.HiddenInput)
    shipped_on = forms.DateField(help_text="YYYY-MM-DD")


class MoveForm(forms.Form):
    title = forms.CharField(max_length=200)
    reason_code = forms.CharField(max_length=50, required=False)
    business_impact = forms.IntegerField(min_value=1, max_value=5)
    evidence_strength = forms.IntegerField(min_value=1, max_value=5)
    execution_confidence = forms.IntegerField(min_value=1, max_value=5)
    strategic_timing = forms.IntegerField(min_value=1, max_value=5)
    cost_rank = forms.IntegerField(min_value=1)
