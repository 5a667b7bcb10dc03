"""The admin bench's work (``python -m bench.admin_pages`` sets Django up and calls ``run``)."""

import re
import time

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BigIntegerField
from django.db.models.functions import Cast
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import UserObjectPermission

from accounts import selectors
from accounts.models import Account
from bench.reports_run import ensure_data

PROJECT_APPS = {"accounts", "routing", "reports", "gates", "opsconsole"}
_FULL_COUNT = re.compile(r"SELECT COUNT\(\*\)", re.IGNORECASE)


def full_counts(queries) -> int:
    """COUNT queries with no LIMIT inside: a count of every matching row."""
    return sum(1 for q in queries if _FULL_COUNT.search(q["sql"]) and " LIMIT " not in q["sql"].upper())


def verified_client(user) -> Client:
    """A console session that passed the second factor (a confirmed authenticator app)."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _get(client, url, queries_of):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, secure=True)
    queries_of.append(captured.captured_queries)
    return response


def _baseline(model_admin, request, term: str | None, per_page: int):
    """The same rows, bare: the default manager in the changelist's order, [:per_page]."""
    qs = model_admin.model._default_manager.all()
    if term:
        qs, _ = model_admin.get_search_results(request, qs, term)
    ordering = model_admin.get_ordering(request) or model_admin.model._meta.ordering or ["-pk"]
    return lambda: list(qs.order_by(*ordering, "-pk")[:per_page])


def changelists(args, median_time, terms, default_term, client, user) -> list[str]:
    problems = []
    request = type("Request", (), {"user": user, "GET": {}, "META": {}})()
    head = f"{'changelist':<34} {'page ms':>8} {'q':>3} {'search ms':>9} {'q':>3}"
    print(f"{head} {'bare ms':>8} {'bare search':>11}")
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label_lower):
        label = model._meta.label_lower
        if args.only and label not in args.only:
            continue
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        term = terms.get(label, default_term) if model_admin.search_fields else None
        page_queries, search_queries = [], []
        page_s, response = median_time(lambda u=url, q=page_queries: _get(client, u, q), args.repeat)
        status = response.status_code
        search_s, search_status = None, None
        if term:
            search_url = f"{url}?{SEARCH_VAR}={term}"
            search_s, found = median_time(
                lambda u=search_url, q=search_queries: _get(client, u, q), args.repeat
            )
            search_status = found.status_code
        per_page = model_admin.list_per_page
        bare_s, _ = median_time(_baseline(model_admin, request, None, per_page), args.repeat)
        bare_search_s = None
        if term:
            bare_search_s, _ = median_time(_baseline(model_admin, request, term, per_page), args.repeat)
        counts = full_counts(page_queries[-1]) + (full_counts(search_queries[-1]) if term else 0)
        flag = " COUNT!" if counts else ""
        if status != 200 or (term and search_status != 200):
            flag += f" HTTP {status}/{search_status}"
            problems.append(f"{label}: HTTP {status}/{search_status}")
        if counts and model._meta.app_label in PROJECT_APPS:  # auth and otp lists: a few rows
            problems.append(f"{label}: {counts} full COUNT(*)")

        def ms(seconds):
            return "-" if seconds is None else f"{seconds * 1000:.0f}"

        print(
            f"{label:<34} {ms(page_s):>8} {len(page_queries[-1]):>3} {ms(search_s):>9} "
            f"{len(search_queries[-1]) if term else '-':>3} {ms(bare_s):>8} {ms(bare_search_s):>11}{flag}"
        )
    return problems


def restricted_list(args, median_time) -> list[str]:
    """The accounts a support agent holding ``args.grants`` object grants sees: the first page
    of the console's account list (its queryset) and the changelist."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench-granted", defaults={"is_staff": True})
    permission = Permission.objects.get(codename="view_account", content_type__app_label="accounts")
    content_type = ContentType.objects.get_for_model(Account)
    have = UserObjectPermission.objects.filter(user=user, permission=permission).count()
    if have < args.grants:
        ids = Account.objects.order_by("?").values_list("pk", flat=True)[: args.grants - have]
        UserObjectPermission.objects.bulk_create(
            [
                UserObjectPermission(
                    user=user, permission=permission, content_type=content_type, object_pk=str(pk)
                )
                for pk in ids
            ],
            ignore_conflicts=True,
        )
    grants = UserObjectPermission.objects.filter(user=user, permission=permission).count()
    model_admin = admin.site._registry[Account]
    per_page = model_admin.list_per_page
    ordering = model_admin.get_ordering(None) or Account._meta.ordering or ["-pk"]

    def first_page():
        return list(selectors.accounts_with_open_counts(user).order_by(*ordering, "-pk")[:per_page])

    page_s, rows = median_time(first_page, args.repeat)
    granted = (
        UserObjectPermission.objects.filter(user=user, permission=permission)
        .annotate(key=Cast("object_pk", BigIntegerField()))
        .values("key")
    )
    bare_s, _ = median_time(
        lambda: list(Account.objects.filter(pk__in=granted).order_by(*ordering, "-pk")[:per_page]),
        args.repeat,
    )
    total = Account.objects.count()
    print(f"restricted account list: {grants:,} object grants on {total:,} accounts")
    page_ms, bare_ms = page_s * 1000, bare_s * 1000
    print(f"  first page of the console's list ({len(rows)} rows)  {page_ms:.0f} ms   bare {bare_ms:.0f} ms")
    return [] if len(rows) == min(per_page, grants) else [f"restricted list gave {len(rows)} rows"]


def run(args, *, median_time, terms, default_term) -> int:
    ensure_data(args.accounts, args.days)
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = verified_client(user)
    started = time.perf_counter()
    problems = changelists(args, median_time, terms, default_term, client, user)
    problems += restricted_list(args, median_time)
    print(f"({time.perf_counter() - started:.0f} s)")
    if problems:
        print("the figures mean nothing or a page counts every row:")
        for problem in problems:
            print("  " + problem)
        return 1
    return 0
