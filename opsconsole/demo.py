"""Demo data: each app's seeders, registered here, and the framework's own part (the staff).

An app registers its demo part from its ``AppConfig.ready()``; ``manage.py seed_demo`` runs
them in layer order, which is the order of ``INSTALLED_APPS``, so the command imports no app.
The base data of every layer comes first (staff, the accounts, tickets about them), then the
walk-throughs that stage cases on that data (a failed import to restart, drift to fix), so a
walk-through never changes what a base seeder of a higher layer picks.

A seeder is ``seed(*, rng, actor, stdout, **options)``: deterministic for its ``rng`` and
idempotent. Its name names its random stream, so adding a seeder never changes another's data.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from opsconsole import roles

BASE = 0
WALK_THROUGH = 1


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    app_label: str
    seed: Callable[..., None]
    stage: int = BASE
    # The command-line options it takes: flag -> argparse keyword arguments. seed_demo offers
    # them and passes each one's value under its name ("--accounts" as accounts=...).
    options: dict[str, dict] = field(default_factory=dict)

    def option_values(self, parsed: dict) -> dict:
        names = (flag.lstrip("-").replace("-", "_") for flag in self.options)
        return {name: parsed[name] for name in names}


_SEEDERS: dict[str, DemoSeeder] = {}


def register(
    name: str,
    seed: Callable[..., None],
    *,
    app_label: str,
    stage: int = BASE,
    options: dict[str, dict] | None = None,
) -> DemoSeeder:
    seeder = _SEEDERS[name] = DemoSeeder(name, app_label, seed, stage, options or {})
    return seeder


def seeders() -> list[DemoSeeder]:
    """The registered seeders in the order seed_demo runs them (stage, then layer, then the
    order each app registered its own)."""
    layer = {config.label: index for index, config in enumerate(apps.get_app_configs())}
    return sorted(_SEEDERS.values(), key=lambda seeder: (seeder.stage, layer[seeder.app_label]))


# --- The framework's part: staff users -------------------------------------------------------

DEMO_PASSWORD = "opsconsole-demo"
DEMO_SUPERUSER = "admin"
# Usernames are the role names, so "log in as support" needs no lookup.
DEMO_STAFF = {role: role for role in roles.STAFF_ROLES}


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    """One staff user per role and a superuser, all with the demo password."""
    User = get_user_model()
    created = []
    # Hashing is slow on purpose; the demo users share one hash of the one demo password.
    password_hash = make_password(DEMO_PASSWORD)
    for username, role in DEMO_STAFF.items():
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": True, "first_name": role.replace("_", " ").title(), "last_name": "Demo"},
        )
        if was_created:
            # Only on creation: a new hash has a new salt, so a rerun would change the row.
            user.password = password_hash
            user.save()
            created.append(username)
        user.groups.add(Group.objects.get(name=role))
    if not User.objects.filter(username=DEMO_SUPERUSER).exists():
        User.objects.create_superuser(DEMO_SUPERUSER, "admin@opsconsole.example.com", DEMO_PASSWORD)
        created.append(DEMO_SUPERUSER)
    stdout.write(f"staff users: {', '.join(created) or 'none'} created")


def login_lines(url: str) -> list[str]:
    if settings.TWO_FACTOR_REQUIRED:
        second_factor = "Each user sets up a second factor (authenticator app or passkey) at first login."
    else:
        second_factor = "No second factor in this demo (OPSCONSOLE_2FA_REQUIRED=0); a banner says so."
    lines = [second_factor, f"Log in at {url} with password {DEMO_PASSWORD!r} as:"]
    for username, role in DEMO_STAFF.items():
        lines.append(f"  {username:<12} ({role} role)")
    lines.append(f"  {DEMO_SUPERUSER:<12} (superuser)")
    return lines
