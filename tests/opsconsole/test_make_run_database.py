"""`make run` serves from the embedded SQLite database, which the PostgreSQL suite never
touches. Migrating it and seeding the demo there, twice, catches PostgreSQL-only code on
that path (JSON containment, advisory locks, ...)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, database: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": "",
    }
    env.pop("DJANGO_SECRET_KEY", None)  # make run has none: debug mode must cope
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_demo_migrates_and_seeds_on_sqlite_twice(tmp_path):
    database = tmp_path / "demo.sqlite3"
    migrated = manage("migrate", "--verbosity", "0", database=database)
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    first = manage("seed_demo", "--accounts", "30", database=database)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Log in at http://127.0.0.1:8000/" in first.stdout

    # make run passes its port, so `PORT=8109 make run` prints the address it serves on.
    second = manage(
        "seed_demo", "--accounts", "30", "--console-url", "http://127.0.0.1:8109/", database=database
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 created, 30 already there" in second.stdout
    assert "Log in at http://127.0.0.1:8109/" in second.stdout
