import io
import random

import pytest

from accounts.billing.demo import seed_demo
from accounts.choices import DriftStatus
from accounts.models import BillingDrift, OpsException, ReconciliationRun


@pytest.mark.django_db
def test_billing_demo_is_deterministic_and_idempotent(make_account, system):
    for _ in range(15):
        make_account()
    seed_demo(rng=random.Random(7), actor=system, stdout=io.StringIO())
    first = sorted(BillingDrift.objects.values_list("subject", "kind"))
    seed_demo(rng=random.Random(7), actor=system, stdout=io.StringIO())

    assert len(first) == 12 and sorted(BillingDrift.objects.values_list("subject", "kind")) == first
    assert ReconciliationRun.objects.count() == 1
    assert OpsException.objects.filter(billing_drift__status=DriftStatus.OPEN).count() == 12
