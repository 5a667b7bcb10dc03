"""Demo staff: one user per role and a superuser, all with the demo password."""

import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from opsconsole import roles

DEMO_PASSWORD = "opsconsole-demo"
DEMO_SUPERUSER = "admin"
# Usernames are the role names, so "log in as support" needs no lookup.
DEMO_STAFF = {role: role for role in roles.STAFF_ROLES}


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
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
    lines = [f"Log in at {url} with password {DEMO_PASSWORD!r} as:"]
    for username, role in DEMO_STAFF.items():
        lines.append(f"  {username:<12} ({role} role)")
    lines.append(f"  {DEMO_SUPERUSER:<12} (superuser)")
    return lines
