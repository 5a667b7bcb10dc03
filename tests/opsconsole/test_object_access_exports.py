"""Every report export, per role and for people with no grants: refused (403) without the
permission it needs, and for those who hold it, only the rows they may see.

The exports: the channel report, cohorts and a cohort cell's accounts (CSV), each table of each
constraint page (``?csv=<table>``), every row list behind a number (``?list=<code>&csv=rows``),
the login audit CSV; and the support report page (it has no CSV). The reports need
``reports.view_dashboard``, the login audit ``opsconsole.view_loginevent``.

Beside the world's people (tests/opsconsole/access_world.py), "analyst" is staff in the
analytics role (the dashboard, nothing else) with a guardian grant on the first account only:
the row exports must narrow to that account for them.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Account
from opsconsole.roles import VIEW_DASHBOARD
from reports.rowlists import all_lists, row_list
from tests.helpers.clients import logged_in
from tests.opsconsole.access_world import USERS, visible

pytestmark = pytest.mark.django_db

CHANNEL = "paid-search"
CONSTRAINT_PAGES = ("index", "failures", "ranked", "quality", "costs", "billing", "funnel", "drag")
AUDIT = "opsconsole.view_loginevent"


@pytest.fixture
def people(world, make_user):
    analyst = make_user("analytics")
    get_user_model().objects.filter(pk=analyst.pk).update(is_staff=True)
    granted = Account.objects.restrict(world["grantee"]).get()
    assign_perm("accounts.view_account", analyst, granted)
    return {**world, "analyst": get_user_model().objects.get(pk=analyst.pk)}


def _range() -> dict:
    today = timezone.now().date()
    return {
        "since": (today - timedelta(days=7)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }


def _rows(response) -> list[list[str]]:
    """A CSV export's lines, without its ``#`` comment lines and its header."""
    text = b"".join(response.streaming_content).decode()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.reader(io.StringIO("\n".join(lines))))[1:]


def _table_exports(ops_lead) -> list[tuple[str, str, dict]]:
    """(name, path, parameters) of every constraint page table's CSV, read from the pages."""
    client = logged_in(ops_lead)
    found = []
    for page in CONSTRAINT_PAGES:
        path = reverse(f"admin:reports_constraints_{page}")
        response = client.get(path, {**_range(), "channel": CHANNEL} if page == "failures" else _range())
        assert response.status_code == 200, page
        for table in response.context["tables"]:
            found.append((f"{page}:{table.code}", path, {**_range(), "csv": table.code}))
    return found


def _list_params(code: str) -> dict:
    return {**_range(), "list": code, "csv": "rows", "reason": "import_failed"}


def _exports(ops_lead) -> list[tuple[str, str, dict, str]]:
    """(name, path, parameters, permission) of every export."""
    today = timezone.now().date().isoformat()
    found = [
        ("channels", reverse("admin:reports_export_channels"), _range(), VIEW_DASHBOARD),
        (
            "cohorts",
            reverse("admin:reports_export_cohorts"),
            {**_range(), "metric": "signups"},
            VIEW_DASHBOARD,
        ),
        (
            "cohort accounts",
            reverse("admin:reports_export_cohort_accounts"),
            {"metric": "signups", "channel": CHANNEL, "period": "day", "period_start": today},
            VIEW_DASHBOARD,
        ),
        ("support page", reverse("admin:reports_support"), _range(), VIEW_DASHBOARD),
        ("login audit", reverse("admin:opsconsole_loginevent_export"), {}, AUDIT),
    ]
    found += [(name, path, params, VIEW_DASHBOARD) for name, path, params in _table_exports(ops_lead)]
    rows = reverse("admin:reports_constraints_rows")
    found += [(f"rows:{code}", rows, _list_params(code), VIEW_DASHBOARD) for code in all_lists()]
    return found


def _check_rows(name: str, params: dict, response, user, narrowed: list) -> None:
    """A row export holds exactly the rows of its query the user may see."""
    lines = _rows(response)
    if name == "cohort accounts":
        model, shown = (
            Account,
            set(Account.objects.filter(external_id__in=[r[0] for r in lines]).values_list("pk", flat=True)),
        )
        assert len(shown) == len(lines), name
        everything = set(Account.objects.filter(channel__code=CHANNEL).values_list("pk", flat=True))
    elif name.startswith("rows:"):
        query = row_list(params["list"]).rows(params)
        model, shown = query.model, {query.model._meta.pk.to_python(r[0]) for r in lines}
        everything = set(query.values_list("pk", flat=True))
    else:
        return
    allowed = visible(model, user)
    assert shown <= allowed, f"{name} shows {model._meta.label} {shown - allowed} to {user.username}"
    assert shown == everything & allowed, (name, shown, everything & allowed)
    if everything - allowed:
        narrowed.append(name)


@pytest.mark.parametrize("who", [*USERS, "analyst"])
def test_every_export_is_refused_without_its_permission_and_narrowed_to_the_users_rows(people, who):
    user = people[who]
    client = logged_in(user)
    narrowed: list[str] = []
    exports = _exports(people["ops_lead"])
    assert len(exports) > 20
    for name, path, params, permission in exports:
        response = client.get(path, params)
        if not user.has_perm(permission):
            assert response.status_code == 403, (who, name, response.status_code)
            continue
        assert response.status_code == 200, (who, name, response.status_code)
        if response.streaming:
            assert response["Content-Type"].startswith("text/csv"), (who, name)
            _check_rows(name, params, response, user, narrowed)
    if who == "analyst":
        # The grant narrows what they export (the second account is in the cell and the lists).
        assert {"cohort accounts", "rows:constraint_accounts"} <= set(narrowed), narrowed
