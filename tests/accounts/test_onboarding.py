"""The onboarding path rule, and the reason stored beside the path."""

import pytest

from accounts.choices import OnboardingPath
from accounts.models import Channel
from accounts.services import account_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("shape", "channel_managed", "flags", "path", "reason"),
    [
        ("free_trial", False, [], OnboardingPath.SELF_SERVE, "Shape free_trial from web is self-serve."),
        (
            "self_serve_team",
            False,
            [],
            OnboardingPath.SELF_SERVE,
            "Shape self_serve_team from web is self-serve.",
        ),
        (
            "sales_assisted_business",
            False,
            [],
            OnboardingPath.MANAGED,
            "Shape sales_assisted_business is onboarded by a person.",
        ),
        (
            "enterprise",
            True,
            ["white_glove"],
            OnboardingPath.MANAGED,
            "Shape enterprise is onboarded by a person.",
        ),
        ("self_serve_team", True, [], OnboardingPath.MANAGED, "Channel web promises managed onboarding."),
        ("free_trial", False, ["regulated"], OnboardingPath.MANAGED, "Signup flagged regulated."),
        (
            "self_serve_team",
            False,
            ["white_glove", "migration_assist", "beta"],
            OnboardingPath.MANAGED,
            "Signup flagged migration_assist, white_glove.",
        ),
        (
            "self_serve_team",
            False,
            ["beta"],
            OnboardingPath.SELF_SERVE,
            "Shape self_serve_team from web is self-serve.",
        ),
    ],
)
def test_the_rule_picks_a_path_and_says_why(
    make_account, make_channel, shape, channel_managed, flags, path, reason
):
    channel = make_channel("web", managed_onboarding=channel_managed)

    account = make_account(shape=shape, channel=channel, flags=flags)

    account.refresh_from_db()
    assert account.onboarding_path == path
    assert account.onboarding_path_reason == reason


def test_the_shape_rule_comes_before_the_channel_and_flags(make_account, make_channel):
    account = make_account(
        shape="enterprise", channel=make_channel("partner-x", managed_onboarding=True), flags=["white_glove"]
    )
    assert account.onboarding_path_reason.startswith("Shape enterprise")


def test_a_signup_without_a_channel_is_unattributed_even_when_the_channel_was_removed(system):
    Channel.objects.filter(code="unattributed").delete()  # a flushed database: made again
    account = account_create(
        external_id="lost-1", name="Lost", admin_email="a@lost.example", shape="free_trial", actor=system
    )
    again = account_create(
        external_id="lost-2", name="Lost", admin_email="b@lost.example", shape="free_trial", actor=system
    )
    assert account.channel.code == again.channel.code == "unattributed"
    assert account.channel.kind == "unattributed"
