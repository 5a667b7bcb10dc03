"""Dates and times on every console admin page in the house format (``opsconsole.formatting``:
"2026-11-30 16:48 · 21 h ago"), never in Django's ("Dec. 1, 2026, 8:24 p.m.").

Django's admin shows a model field's value (a read-only field on a change page, a column of a
list) through ``django.contrib.admin.utils.display_for_field``, and a list column computed by a
method through ``display_for_value``. The admin's modules import both by name, so the console
installs its own in their place, once, from the admin app's ``ready()`` (``install``): every
registered admin, ours or a library's, shows dates one way, and no ModelAdmin has to remember
to. tests/opsconsole/test_admin_dates.py walks every change, list and history page for it.
"""

from datetime import date, datetime, time

from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list
from django.db import models

from opsconsole.formatting import house_value, human_time_html

_django_display_for_field = utils.display_for_field
_django_display_for_value = utils.display_for_value


def house_html(value):
    """A date or time for a page: ``human_time_html`` for a moment, ``house_value`` otherwise."""
    return human_time_html(value) if isinstance(value, datetime) else house_value(value)


def display_for_field(value, field, empty_value_display, avoid_link=False):
    if (
        value is not None
        and isinstance(field, models.DateField | models.TimeField)
        and not getattr(field, "flatchoices", None)
    ):
        return house_html(value)
    return _django_display_for_field(value, field, empty_value_display, avoid_link)


def display_for_value(value, empty_value_display, boolean=False):
    if not boolean and isinstance(value, date | time):  # datetime is a date
        return house_html(value)
    return _django_display_for_value(value, empty_value_display, boolean)


def install() -> None:
    """Put the house display in the admin modules that render fields (idempotent)."""
    helpers.display_for_field = display_for_field
    admin_list.display_for_field = display_for_field
    admin_list.display_for_value = display_for_value
