"""pytest fixtures for a real localstripe server, so the stripe SDK makes real HTTP calls.

``localstripe_server`` (session) starts one on a free port and waits until it answers;
``localstripe`` (per test) empties it, points the settings at it and returns a small helper
to make customers, plans and subscriptions; ``http_server`` serves the app for it to deliver
webhooks to. Load with ``pytest_plugins``. Stripe objects and events built by hand (without
a server) are in ``tests/helpers/stripe_objects.py``.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from accounts.shapes import PLANS
from tests.helpers.stripe_objects import WEBHOOK_SECRET

API_KEY = "sk_test_localstripe"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe(port: int, *, timeout: float = 20.0, log_path: str | None = None) -> subprocess.Popen:
    """Start localstripe on ``port``; its access log (and webhook outcomes) go to ``log_path``."""
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.localstripe_server", "--port", str(port), "--from-scratch"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            requests.get(f"http://127.0.0.1:{port}/v1/plans", auth=(API_KEY, ""), timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not answer in time")


class LocalStripe:
    """Direct HTTP to localstripe for arranging state (the code under test uses the SDK)."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self.session.auth = (API_KEY, "")
        # Room for a pool of writer threads (the benchmark creates objects concurrently).
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def _call(self, method: str, path: str, **data) -> dict:
        response = self.session.request(method, f"{self.url}{path}", data=_flatten(data), timeout=10)
        response.raise_for_status()
        return response.json() if response.content else {}

    def post(self, path: str, **data) -> dict:
        return self._call("POST", path, **data)

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.url}{path}", params=_flatten(params), timeout=10)
        response.raise_for_status()
        return response.json()

    def delete(self, path: str) -> dict:
        return self._call("DELETE", path)

    def reset(self) -> None:
        self.session.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET, name: str = "opsconsole") -> None:
        self.post(f"/_config/webhooks/{name}", url=url, secret=secret)

    def unregister_webhooks(self) -> None:
        # localstripe cannot delete a webhook; point it at a closed port instead.
        self.register_webhook(f"http://127.0.0.1:{free_port()}/", name="opsconsole")

    def create_plans(self) -> None:
        for plan in PLANS.values():
            self.post(
                "/v1/plans",
                id=plan.code,
                amount=plan.mrr_cents,
                currency="usd",
                interval="month",
                product={"name": plan.name},
            )

    def create_customer(self, *, email: str, account_external_id: str = "", **extra) -> dict:
        metadata = {"account_external_id": account_external_id} if account_external_id else {}
        return self.post("/v1/customers", email=email, metadata=metadata, **extra)

    def attach_card(self, customer_id: str, number: str = "4242424242424242") -> str:
        method = self.post(
            "/v1/payment_methods",
            type="card",
            card={"number": number, "exp_month": "12", "exp_year": "2035", "cvc": "123"},
        )
        self.post(f"/v1/payment_methods/{method['id']}/attach", customer=customer_id)
        self.post(f"/v1/customers/{customer_id}", invoice_settings={"default_payment_method": method["id"]})
        return method["id"]

    def create_subscription(self, *, customer: str, plan: str, trial_end: int | None = None, **extra) -> dict:
        params = {"customer": customer, "items": [{"plan": plan}], **extra}
        if trial_end is not None:
            params["trial_end"] = trial_end
        return self.post("/v1/subscriptions", **params)

    def set_plan(self, subscription_id: str, plan: str) -> dict:
        subscription = self.get(f"/v1/subscriptions/{subscription_id}")
        item = subscription["items"]["data"][0]["id"]
        return self.post(f"/v1/subscriptions/{subscription_id}", items=[{"id": item, "plan": plan}])

    def events(self) -> list[dict]:
        return self.get("/v1/events", limit=100)["data"]


def _flatten(data: dict, prefix: str = "") -> dict:
    """Stripe's form encoding: a[b]=1, items[0][plan]=x."""
    flat = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    flat.update(_flatten(item, f"{name}[{i}]"))
                else:
                    flat[f"{name}[{i}]"] = item
        elif value is not None:
            flat[name] = value
    return flat


@pytest.fixture(scope="session")
def localstripe_server():
    port = free_port()
    process = start_localstripe(port, log_path=os.path.join(tempfile.gettempdir(), f"localstripe-{port}.log"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_server, settings):
    """An empty localstripe with our plans, and the settings pointing at it."""
    stripe = LocalStripe(localstripe_server)
    stripe.reset()
    stripe.unregister_webhooks()
    stripe.create_plans()
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return stripe


@pytest.fixture
def http_server(settings, transactional_db):
    """The app served over plain HTTP on a free port (as behind a TLS-terminating proxy), for
    localstripe to deliver webhooks to. Unlike the session-wide ``live_server``, its middleware
    is built after this test's settings, so the HTTPS redirect can be off."""

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
