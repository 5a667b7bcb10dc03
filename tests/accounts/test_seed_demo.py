"""seed_demo and generate_data: deterministic (same seed, same data) and idempotent."""

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import modify_settings
from django.utils import timezone

from accounts import demo
from accounts.eventflags import late_q
from accounts.models import (
    Account,
    AccountEvent,
    BillingDrift,
    Channel,
    OpsException,
    ProvisioningStep,
    ReconciliationRun,
)
from opsconsole import roles
from opsconsole.demo import DEMO_PASSWORD
from opsconsole.models import OutboxMessage
from reports.models import AccountFacts

SMALL = "20"


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", "--accounts", SMALL, *args, stdout=out)
    return out.getvalue()


def generated_accounts(prefix=demo.DEMO_PREFIX):
    """The accounts seeder's numbered accounts; other apps' seeders add named ones."""
    return Account.objects.filter(external_id__regex=rf"^{prefix}_[0-9]+$")


def snapshot(prefix=demo.DEMO_PREFIX):
    """The data a seed determines. Leaves out row ids and wall-clock stamps (recorded_at)."""
    accounts = generated_accounts(prefix)
    return {
        "accounts": sorted(
            accounts.values_list(
                "external_id",
                "name",
                "admin_email",
                "shape",
                "plan",
                "channel__code",
                "signed_up_at",
                "activated_at",
                "lifecycle_stage",
                "onboarding_path",
                "flags",
            )
        ),
        "events": sorted(
            AccountEvent.objects.filter(account__in=accounts).values_list(
                "event_id", "type", "occurred_at", "error_code", "reason_code__code", "source", "late"
            )
        ),
        "steps": sorted(
            ProvisioningStep.objects.filter(account__in=accounts).values_list(
                "account__external_id", "step", "status", "status_at"
            )
        ),
        "exceptions": sorted(
            OpsException.objects.filter(account__in=accounts).values_list(
                "account__external_id", "reason_code__code", "status", "summary", "resolved_by__username"
            )
        ),
    }


def row_counts():
    models = [Account, AccountEvent, OpsException, ProvisioningStep, Channel, get_user_model()]
    counts = {m.__name__: m.objects.count() for m in models}
    counts.update(
        {f"history:{m.__name__}": m.history.count() for m in (Account, OpsException, ProvisioningStep)}
    )
    return counts


@pytest.mark.django_db
def test_seed_creates_a_believable_company():
    output = seed()

    assert generated_accounts().count() == int(SMALL)
    assert Channel.objects.count() >= 4
    assert Channel.objects.filter(kind="partner").exists()
    created = AccountEvent.objects.filter(type="account.created", account__in=generated_accounts())
    assert created.count() == int(SMALL)
    assert AccountEvent.objects.exclude(type="account.created").count() > 3 * int(SMALL)
    assert OpsException.objects.exists()
    # The product's events arrived as they happened, a few late, not all at the seed's moment.
    product = AccountEvent.objects.filter(account__in=generated_accounts(), source="product")
    late = product.filter(late=True).count()
    assert 0 < late < 0.1 * product.count()
    assert late == product.filter(late_q()).count()
    # The guarded-actions demo's second signup of one company is a duplicate-workspace candidate.
    duplicate = Account.objects.get(external_id="demo_duplicate")
    assert duplicate.facts.namesake_candidate
    # Every write of the seeder's own is the seeder's (the staff's work is the staff users').
    assert set(AccountEvent.objects.values_list("recorded_by__username", flat=True)) == {"system:seeder"}
    assert set(Account.history.values_list("history_user__username", flat=True)) == {"system:seeder"}
    # It ends by telling people how to log in.
    last_lines = output.strip().splitlines()[-(len(roles.STAFF_ROLES) + 2) :]
    assert last_lines[0] == f"Log in at http://127.0.0.1:8000/ with password {DEMO_PASSWORD!r} as:"
    assert [line.split()[0] for line in last_lines[1:]] == [*roles.STAFF_ROLES, "admin"]


@pytest.mark.django_db
def test_staff_users_can_log_in_in_their_roles():
    seed()
    User = get_user_model()
    for role in roles.STAFF_ROLES:
        user = User.objects.get(username=role)
        assert user.is_staff and user.check_password(DEMO_PASSWORD)
        assert list(user.groups.values_list("name", flat=True)) == [role]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_a_second_run_changes_nothing():
    seed()
    before_rows, before_data = row_counts(), snapshot()
    passwords = dict(get_user_model().objects.values_list("username", "password"))

    output = seed()

    assert row_counts() == before_rows
    assert snapshot() == before_data
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert f"0 created, {SMALL} already there" in output


def forget_demo_data():
    """Undo a seed: the accounts, the billing demo's run that marks it as done, and the messages
    queued for the help desk and the CRM about those accounts (they protect their account)."""
    OutboxMessage.objects.all().delete()
    BillingDrift.objects.all().delete()
    ReconciliationRun.objects.all().delete()
    Account.objects.all().delete()


@pytest.fixture
def fixed_anchor(monkeypatch):
    """The demo's "now" pinned, so comparing two seeds never straddles midnight UTC."""
    anchor = datetime(2026, 1, 15, tzinfo=UTC)
    monkeypatch.setattr(demo, "demo_anchor", lambda now=None: anchor)
    return anchor


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(fixed_anchor):
    seed("--seed", "11")
    first = snapshot()
    forget_demo_data()

    seed("--seed", "11")
    assert snapshot() == first

    forget_demo_data()
    seed("--seed", "12")
    assert snapshot()["accounts"] != first["accounts"]


@pytest.mark.django_db
def test_the_mix_covers_every_shape_and_the_review_cases():
    plans = [demo.plan_account(seed=5, index=i, anchor=demo.demo_anchor(), prefix="t") for i in range(600)]
    assert {p.shape for p in plans} == {
        "free_trial",
        "self_serve_team",
        "sales_assisted_business",
        "enterprise",
    }
    assert {p.channel_code for p in plans} == set(demo.CHANNELS_BY_CODE)
    assert any("identity_review" in p.flags for p in plans)
    anchor = demo.demo_anchor()
    assert all(e.occurred_at <= anchor for p in plans for e in p.events)

    # The partner channel fails its imports far more often than the others.
    def import_failure_rate(code):
        mine = [p for p in plans if p.channel_code == code]
        return sum(any(e.type == "import.failed" for e in p.events) for p in mine) / len(mine)

    assert import_failure_rate("northwind-partners") > 2 * import_failure_rate("organic")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@modify_settings(INSTALLED_APPS={"append": "bench"})  # what manage.py generate_data installs
def test_generate_data_gives_the_same_data_with_any_number_of_workers():
    args = ["generate_data", "--accounts", "16", "--seed", "3", "--prefix", "gen", "--anchor", "2026-01-15"]
    call_command(*args, stdout=io.StringIO())
    one_worker = snapshot("gen")
    assert len(one_worker["accounts"]) == 16
    Account.objects.all().delete()

    call_command(*args, "--workers", "2", stdout=io.StringIO())
    assert snapshot("gen") == one_worker

    out = io.StringIO()
    call_command(*args, "--workers", "2", stdout=out)
    assert snapshot("gen") == one_worker
    assert "0 accounts created, 16 already there" in out.getvalue()


@pytest.mark.django_db
def test_the_staff_work_is_done_by_the_teams_demo_users(make_account, fail_import, make_user, system):
    """So the reports count it as people's time (measured minutes, manual cost), as they would
    in a company; the seeder itself is no person."""
    support = make_user("support")
    account = make_account(signed_up_at=timezone.now() - timedelta(days=10))
    exception = fail_import(account)  # import_failed: the support team's
    plan = SimpleNamespace(manual_exceptions=["unclear_setup_step"], staff_draws={"import_failed": (0.0, "")})
    anchor = timezone.now() + timedelta(days=5)  # old enough that staff closed it

    demo._apply_staff_work(plan, account, anchor=anchor, actor=system, staff={"support": support})

    exception.refresh_from_db()
    assert exception.status == "resolved" and exception.resolved_by == support
    # ... an hour after it opened (the draw's roll is 0), not at the seed's moment: within the
    # account's first 30 days, so it counts as the account's manual minutes.
    assert exception.resolved_at == exception.first_response_at == exception.opened_at + timedelta(hours=1)
    raised = OpsException.objects.get(account=account, reason_code__code="unclear_setup_step")
    assert raised.history.earliest().history_user == support
    assert AccountFacts.objects.get(pk=account.pk).manual_minutes_30d == 20  # import_failed's estimate
