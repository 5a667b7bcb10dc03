#!/usr/bin/env python3
"""Run a command with the services the test suite needs: PostgreSQL, Redis and Chromium.

    scripts/services.py [--no-redis] [--no-browser] -- COMMAND [ARGS...]

For each service it prints one line saying what it did, exports the address to COMMAND's
environment and, if it started a throwaway server, stops and removes it when COMMAND ends
(or when this script is interrupted).

PostgreSQL (exported as DATABASE_URL):
  1. DATABASE_URL set: use it.
  2. A server answering on 127.0.0.1:$OPSCONSOLE_PG_PROBE_PORT (5432) as user postgres: use it.
  3. PostgreSQL binaries (/usr/lib/postgresql/*/bin, then PATH): start a throwaway cluster
     under var/ on a free port.
  4. Root with apt-get: install Debian's postgresql, then as 3.
  Otherwise: fail, saying what to do.

Redis (exported as TEST_REDIS_URL) follows the same steps with TEST_REDIS_URL,
$OPSCONSOLE_REDIS_PROBE_PORT (6379) and redis-server.

Chromium for the browser tests: /usr/bin/chromium, installed with apt-get when missing and root.

The probe ports exist so the "nothing running" path can be exercised on a machine where
servers do run: point them at a port where nothing listens.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
HOST = "127.0.0.1"
DATABASE_NAME = "opsconsole"
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_SECONDS = 60


class ServiceUnavailable(Exception):
    pass


def say(service: str, message: str) -> None:
    print(f"[services] {service}: {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex((HOST, port)) == 0


def is_root() -> bool:
    return os.geteuid() == 0


_apt_updated = False


def apt_install(package: str, service: str) -> bool:
    """Install a Debian package when we are root on a machine with apt-get; False otherwise."""
    global _apt_updated
    if not (is_root() and shutil.which("apt-get")):
        return False
    say(service, f"installing Debian package {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        _apt_updated = True
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
    return True


def wait_until(ready, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise ServiceUnavailable(f"{what} did not become ready within {STARTUP_TIMEOUT_SECONDS}s")


def scratch_dir(prefix: str, owner: str | None) -> Path:
    """A fresh directory under var/, or under the system temp dir when var/ is not writable for
    us or not reachable for ``owner`` (a checkout in a home directory only its user may enter)."""
    try:
        VAR.mkdir(exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=VAR))
    except OSError:
        path = Path(tempfile.mkdtemp(prefix=f"opsconsole-{prefix}"))
    if owner is None:
        return path
    group = pwd.getpwnam(owner).pw_gid
    shutil.chown(path, user=owner, group=group)
    if subprocess.run(["runuser", "-u", owner, "--", "test", "-w", str(path)]).returncode == 0:
        return path
    path.rmdir()
    path = Path(tempfile.mkdtemp(prefix=f"opsconsole-{prefix}"))
    shutil.chown(path, user=owner, group=group)
    return path


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_accepts(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def postgres_binaries() -> Path | None:
    """The bin/ directory of the newest PostgreSQL found, or None."""

    def version(initdb: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", initdb)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(on_path)
    for initdb in candidates:
        bin_dir = Path(initdb).resolve().parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    return None


def postgres_start(stack: contextlib.ExitStack) -> str:
    bin_dir = postgres_binaries()
    if bin_dir is None and apt_install("postgresql", "postgres"):
        bin_dir = postgres_binaries()
    if bin_dir is None:
        raise ServiceUnavailable(
            "no DATABASE_URL, no server on the probe port and no PostgreSQL binaries "
            "(looked in /usr/lib/postgresql/*/bin and PATH; not root, so nothing was installed). "
            "Install PostgreSQL or set DATABASE_URL=postgres://USER@HOST:PORT/opsconsole."
        )
    # initdb and postgres refuse to run as root.
    owner = None
    if is_root():
        try:
            pwd.getpwnam("postgres")
        except KeyError as missing:
            raise ServiceUnavailable(
                "running as root and there is no 'postgres' user to own a throwaway cluster"
            ) from missing
        owner = "postgres"
    as_owner = ["runuser", "-u", owner, "--"] if owner else []

    data_dir = scratch_dir("pg-", owner)
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    port = free_port()
    subprocess.run(
        [*as_owner, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"]
        + ["-E", "UTF8", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Durability is worthless for a cluster deleted in a minute; speed is not.
    options = (
        f"-p {port} -k {data_dir} -c listen_addresses={HOST} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    pg_ctl = [*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(data_dir / "server.log"), "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stack.callback(subprocess.run, [*pg_ctl, "-m", "immediate", "-w", "stop"], stdout=subprocess.DEVNULL)
    url = f"postgres://postgres@{HOST}:{port}/{DATABASE_NAME}"
    wait_until(lambda: postgres_accepts(f"postgres://postgres@{HOST}:{port}/postgres"), "PostgreSQL")
    say("postgres", f"started a throwaway cluster ({bin_dir.parent.name}) in {data_dir} on port {port}")
    return url


def postgres_url(stack: contextlib.ExitStack) -> str:
    if os.environ.get("DATABASE_URL"):
        say("postgres", "using DATABASE_URL from the environment")
        return os.environ["DATABASE_URL"]
    port = int(os.environ.get("OPSCONSOLE_PG_PROBE_PORT", "5432"))
    if postgres_accepts(f"postgres://postgres@{HOST}:{port}/postgres"):
        say("postgres", f"using the server already running on {HOST}:{port}")
        return f"postgres://postgres@{HOST}:{port}/{DATABASE_NAME}"
    if port_listening(port):
        raise ServiceUnavailable(
            f"something listens on {HOST}:{port} but does not accept user postgres without a "
            "password; set DATABASE_URL to a PostgreSQL you may create databases on"
        )
    return postgres_start(stack)


# --- Redis --------------------------------------------------------------------------------


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_start(stack: contextlib.ExitStack) -> str:
    binary = shutil.which("redis-server")
    if binary is None and apt_install("redis-server", "redis"):
        binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceUnavailable(
            "no TEST_REDIS_URL, no Redis on the probe port and no redis-server binary "
            "(not root, so nothing was installed). Install redis-server or set TEST_REDIS_URL."
        )
    data_dir = scratch_dir("redis-", None)
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        + ["--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    stack.callback(stop)
    wait_until(lambda: redis_answers(port), "redis-server")
    say("redis", f"started a throwaway redis-server on port {port}")
    return f"redis://{HOST}:{port}/0"


def redis_url(stack: contextlib.ExitStack) -> str:
    if os.environ.get("TEST_REDIS_URL"):
        say("redis", "using TEST_REDIS_URL from the environment")
        return os.environ["TEST_REDIS_URL"]
    port = int(os.environ.get("OPSCONSOLE_REDIS_PROBE_PORT", "6379"))
    if redis_answers(port):
        say("redis", f"using the server already running on {HOST}:{port}")
        return f"redis://{HOST}:{port}/0"
    return redis_start(stack)


# --- Chromium -----------------------------------------------------------------------------


def chromium_ensure() -> None:
    if CHROMIUM.exists():
        say("chromium", f"using {CHROMIUM}")
        return
    if apt_install("chromium", "chromium") and CHROMIUM.exists():
        say("chromium", f"installed {CHROMIUM}")
        return
    raise ServiceUnavailable(
        f"{CHROMIUM} is missing and could not be installed (not root or no apt-get). "
        "Install Debian's chromium, or run without the browser tests: pytest -m 'not browser'."
    )


# --- main ---------------------------------------------------------------------------------


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def run_forwarding_signals(command: list[str], env: dict[str, str]) -> int:
    """Run COMMAND in its own process group and pass it SIGINT/SIGTERM/SIGHUP, so an interrupted
    run first stops the tests, then (in main) the servers they were using."""
    child = subprocess.Popen(command, env=env, start_new_session=True)

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-redis", action="store_true", help="do not provide Redis")
    parser.add_argument("--no-browser", action="store_true", help="do not provide Chromium")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")

    # A CI timeout or kill while servers start must still stop the ones already started.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    with contextlib.ExitStack() as stack:
        try:
            env = {**os.environ, "DATABASE_URL": postgres_url(stack)}
            if not args.no_redis:
                env["TEST_REDIS_URL"] = redis_url(stack)
            if not args.no_browser:
                chromium_ensure()
        except (ServiceUnavailable, subprocess.CalledProcessError) as problem:
            print(f"[services] cannot provide the test services: {problem}", file=sys.stderr)
            return 2
        return run_forwarding_signals(command, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
