import io
import random

import pytest

from accounts.demo_actions import DEMO_ACCOUNTS, seed_demo
from accounts.models import Account, OpsException
from accounts.rules import applicable_steps
from opsconsole.runbooks import runbook_for_case

pytestmark = pytest.mark.django_db


def test_demo_seeds_the_walk_through_once(system):
    seed_demo(rng=random.Random(7), actor=system, stdout=io.StringIO())
    counts = (Account.objects.count(), OpsException.objects.count())
    seed_demo(rng=random.Random(7), actor=system, stdout=io.StringIO())
    assert (Account.objects.count(), OpsException.objects.count()) == counts == (len(DEMO_ACCOUNTS), 4)
    timeout = OpsException.objects.get(account__external_id="demo_import_timeout")
    assert runbook_for_case(timeout).code == "import-timeout"
    schema = OpsException.objects.get(account__external_id="demo_import_schema")
    assert runbook_for_case(schema).code == "import-failed"


def test_a_demo_import_failure_comes_after_its_earlier_steps(system):
    seed_demo(rng=random.Random(7), actor=system, stdout=io.StringIO())
    for external_id, failing_step in [
        ("demo_import_timeout", "import_data"),
        ("demo_invite_expired", "invite_admin"),
    ]:
        account = Account.objects.get(external_id=external_id)
        status = dict(account.provisioning_steps.values_list("step", "status"))
        order = list(applicable_steps(account))
        position = order.index(failing_step)
        assert status[failing_step] == "failed", status
        # Every step before the failing one went through; none is left pending behind it.
        assert [status[step] for step in order[:position]] == ["succeeded"] * position, status
