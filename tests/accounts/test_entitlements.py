"""Entitlements: the shape's, raised by the plan's, then the account's overrides.

Overrides are created directly here: granting one is a guarded action (another branch); this
file tests how the selector reads them.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import EntitlementKind
from accounts.models import EntitlementOverride
from accounts.selectors import entitlements_for

pytestmark = pytest.mark.django_db


def by_key(account, **kwargs):
    return {e.key: e for e in entitlements_for(account, **kwargs)}


def test_shape_and_plan_combine(make_account):
    account = make_account(shape="self_serve_team", plan="team")
    ents = by_key(account)

    assert ents["integrations"].granted_by == "shape:self_serve_team"
    assert ents["reports"].granted_by == "plan:team"  # the plan adds what the shape lacks
    assert ents["seats"].value == 25 and ents["seats"].type == "limit"
    assert "sso" not in ents
    assert all(e.kind == EntitlementKind.STANDARD and not e.temporary for e in ents.values())


def test_a_bigger_plan_raises_the_shapes_limits(make_account):
    account = make_account(shape="free_trial", plan="business")
    ents = by_key(account)
    assert ents["seats"].value == 100 and ents["seats"].granted_by == "plan:business"
    assert ents["sso"].granted_by == "plan:business"


def test_a_smaller_plan_does_not_lower_the_shapes_limits(make_account):
    account = make_account(shape="self_serve_team", plan="starter")
    assert by_key(account)["seats"].value == 25


@pytest.mark.parametrize(
    ("kind", "expires_in", "temporary", "beta", "grandfathered"),
    [
        (EntitlementKind.TEMPORARY, timedelta(days=14), True, False, False),
        (EntitlementKind.BETA, None, False, True, False),
        (EntitlementKind.GRANDFATHERED, None, False, False, True),
        (EntitlementKind.BETA, timedelta(days=30), True, True, False),  # a beta with an end date
    ],
)
def test_overrides_say_what_kind_of_grant_they_are(
    make_account, kind, expires_in, temporary, beta, grandfathered
):
    account = make_account(shape="free_trial")
    expires_at = timezone.now() + expires_in if expires_in else None
    override = EntitlementOverride.objects.create(
        account=account, key="audit_log", kind=kind, reason="deal", expires_at=expires_at
    )

    ent = by_key(account)["audit_log"]

    assert ent.value is True and ent.type == "feature"
    assert ent.granted_by == f"override:{override.pk}"
    assert (ent.temporary, ent.beta, ent.grandfathered) == (temporary, beta, grandfathered)
    assert ent.expires_at == expires_at


def test_a_limit_override_replaces_the_shape_limit(make_account):
    account = make_account(shape="free_trial")
    EntitlementOverride.objects.create(
        account=account, key="seats", limit_value=10, kind=EntitlementKind.GRANDFATHERED, reason="old plan"
    )
    seats = by_key(account)["seats"]
    assert seats.value == 10 and seats.type == "limit" and seats.grandfathered


def test_an_expired_override_is_ignored(make_account):
    account = make_account(shape="free_trial")
    expires_at = timezone.now() + timedelta(days=1)
    EntitlementOverride.objects.create(
        account=account, key="sso", kind=EntitlementKind.TEMPORARY, reason="pilot", expires_at=expires_at
    )
    assert "sso" in by_key(account)
    assert "sso" not in by_key(account, now=expires_at)
    assert "sso" not in by_key(account, now=expires_at + timedelta(seconds=1))


def test_a_temporary_override_must_expire(make_account):
    account = make_account()
    with pytest.raises(IntegrityError), transaction.atomic():
        EntitlementOverride.objects.create(
            account=account, key="sso", kind=EntitlementKind.TEMPORARY, reason="x"
        )


def test_one_override_per_key(make_account):
    account = make_account()
    EntitlementOverride.objects.create(account=account, key="sso", kind=EntitlementKind.BETA, reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        EntitlementOverride.objects.create(
            account=account, key="sso", kind=EntitlementKind.GRANDFATHERED, reason="y"
        )
