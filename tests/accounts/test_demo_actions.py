import io
import random

import pytest

from accounts.demo_actions import DEMO_ACCOUNTS, seed_demo
from accounts.models import Account, OpsException
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
