import io
import random

import pytest

from routing import demo
from routing.models import Backtest, RoutingDecision, Ticket


@pytest.mark.django_db
def test_demo_routes_tickets_with_owner_and_reason_and_is_idempotent(
    make_account, system, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(demo, "DEMO_TICKETS", 40)
    for shape in ("free_trial", "self_serve_team", "sales_assisted_business", "enterprise"):
        make_account(shape=shape)
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed_demo(rng=random.Random("t:routing"), actor=system, stdout=io.StringIO())
    assert Ticket.objects.count() == 40
    owned = Ticket.objects.exclude(owner=None).count()
    assert owned >= 36  # most tickets get an owner without manual triage
    assert not RoutingDecision.objects.filter(kind="rule", reason="").exists()
    assert Backtest.objects.get().status == "done"
    first = sorted(Ticket.objects.values_list("external_id", "queue__code", "category"))

    demo.seed_demo(rng=random.Random("t:routing"), actor=system, stdout=io.StringIO())
    assert sorted(Ticket.objects.values_list("external_id", "queue__code", "category")) == first
    assert Backtest.objects.count() == 1
