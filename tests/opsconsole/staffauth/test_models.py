"""The login audit is append-only: in Python everywhere, and in PostgreSQL itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from opsconsole.staffauth.services import login_event_record

pytestmark = pytest.mark.django_db


def test_an_event_cannot_be_changed_or_deleted(make_user):
    event = login_event_record(kind=LoginEventKind.LOGIN, actor=None, username="someone")

    event.username = "someone-else"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_the_database_refuses_updates_and_deletes_too():
    event = login_event_record(kind=LoginEventKind.LOGIN_FAILED, actor=None, username="someone")

    for statement in ("UPDATE opsconsole_loginevent SET username = 'x'", "DELETE FROM opsconsole_loginevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert LoginEvent.objects.get(pk=event.pk).username == "someone"
    with pytest.raises(DatabaseError), transaction.atomic():
        LoginEvent.objects.filter(pk=event.pk).update(username="x")
