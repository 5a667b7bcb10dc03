"""Every date and time on the console's admin pages is in the house format ("2026-11-30 16:48 ·
21 h ago", ``opsconsole.formatting``), never in Django's ("Dec. 1, 2026, 8:24 p.m."): read-only
fields on change pages, list columns and history pages, generated over every registered admin."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin

from opsconsole.actions.services import run_action
from opsconsole.adminkit import facts_list
from opsconsole.formatting import house_value
from routing.services import ticket_intake
from routing.support.services.known_issues import known_issue_create
from tests.helpers.clients import logged_in

pytestmark = pytest.mark.django_db

# Django's English formats: "Dec. 1, 2026", "Dec. 1, 2026, 8:24 p.m.", "8:24 p.m.".
MONTHS = r"Jan\.|Feb\.|March|April|May|June|July|Aug\.|Sept\.|Oct\.|Nov\.|Dec\."
DJANGO_DATE = re.compile(rf"\b(?:{MONTHS}) \d{{1,2}}, \d{{4}}")
DJANGO_TIME = re.compile(r"\b\d{1,2}(?::\d{2})? [ap]\.m\.")


def house(value) -> str:
    """The part of the house format that does not move with the clock."""
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return f"{value:%H:%M}"


def django_default(value) -> str:
    if isinstance(value, datetime):
        return formats.localize(timezone.template_localtime(value))
    return formats.localize(value)


def django_dates_in(html: str) -> list[str]:
    return DJANGO_DATE.findall(html) + DJANGO_TIME.findall(html)


@pytest.fixture
def world(account, fail_import, make_user, system):
    """Rows for the pages to show: an exception worked once, a ticket, a known issue."""
    exception = fail_import(account, "timeout")
    support = make_user("support")
    run_action(name="acknowledge_exception", target=exception, actor=support, idempotency_key="k")
    ticket_intake(
        source="zendesk",
        external_id="1001",
        account_external_id=account.external_id,
        requester_email="someone@customer.example",
        subject="Help",
        body="",
        actor=system,
    )
    known_issue_create(title="Imports time out", actor=support)
    return exception


@pytest.fixture
def superuser_client(django_user_model):
    user = django_user_model.objects.create_superuser("dates", "dates@example.com", "pw-for-tests-only")
    return logged_in(user), user


def _readonly_dates(model_admin, request, obj) -> dict[str, object]:
    """The date and time fields the change page shows read-only, with their values."""
    shown = [name for _, options in model_admin.get_fieldsets(request, obj) for name in options["fields"]]
    shown = [n for group in shown for n in (group if isinstance(group, list | tuple) else [group])]
    if model_admin.has_change_permission(request, obj):
        readonly = set(model_admin.get_readonly_fields(request, obj))
    else:
        readonly = set(shown)
    fields = {f.name: f for f in type(obj)._meta.concrete_fields}
    return {
        name: getattr(obj, name)
        for name in shown
        if name in readonly
        and isinstance(fields.get(name), models.DateField | models.TimeField)
        and getattr(obj, name) is not None
    }


def test_the_exception_page_shows_when_it_opened_in_the_house_format(world, superuser_client):
    client, _ = superuser_client
    page = client.get(reverse("admin:accounts_opsexception_change", args=[world.pk])).content.decode()
    assert house(world.opened_at) in page
    assert django_default(world.opened_at) not in page
    assert not django_dates_in(page)


def test_every_page_shows_dates_in_the_house_format(world, superuser_client, rf):
    client, user = superuser_client
    request = rf.get("/")
    request.user = user
    checked_fields, pages = [], 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if changelist.status_code == 200:
            pages += 1
            assert not django_dates_in(changelist.content.decode()), opts.label
        obj = model_admin.get_queryset(request).first()
        if obj is None:
            continue
        change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200, opts.label
        page = change.content.decode()
        pages += 1
        assert not django_dates_in(page), (opts.label, django_dates_in(page))
        for name, value in _readonly_dates(model_admin, request, obj).items():
            assert house(value) in page, (opts.label, name)
            checked_fields.append(f"{opts.label}.{name}")
        if isinstance(model_admin, SimpleHistoryAdmin):
            try:
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])
            except NoReverseMatch:
                continue
            history = client.get(url).content.decode()
            pages += 1
            assert not django_dates_in(history), (opts.label, "history", django_dates_in(history))
            latest = obj.history.first()
            if latest is not None:
                assert house(latest.history_date) in history, (opts.label, "history")
    # The walk reached the pages that matter, not only empty lists.
    assert {"accounts.OpsException.opened_at", "routing.Ticket.created_at"} <= set(checked_fields)
    assert pages > 60, pages


def test_house_value_formats_days_and_times_of_day_and_leaves_the_rest():
    assert house_value(date(2026, 11, 30)) == "2026-11-30"
    assert house_value(time(9, 5)) == "09:05"
    moment = timezone.now() - timedelta(hours=21)
    assert house_value(moment) == f"{timezone.localtime(moment):%Y-%m-%d %H:%M} · 21 h ago"
    assert house_value("2026-11-30") == "2026-11-30" and house_value(3) == 3


def test_moments_kept_as_text_in_evidence_read_in_the_house_format():
    moment = timezone.now() - timedelta(hours=3)
    shown = str(facts_list({"queued_at": moment.isoformat(), "note": "2026-11-30 was a Monday"}))
    assert f"{timezone.localtime(moment):%Y-%m-%d %H:%M} · 3 h ago" in shown
    assert moment.isoformat() not in shown and "2026-11-30 was a Monday" in shown
    assert "2026-13-45T10:00" in str(facts_list({"odd": "2026-13-45T10:00"}))  # no such day: as is
