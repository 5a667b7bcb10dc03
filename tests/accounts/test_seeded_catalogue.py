"""The migration-seeded catalogue is present in every kind of test, whatever ran before."""

import pytest

from accounts.models import ReasonCode


@pytest.mark.django_db(transaction=True)
def test_transactional_test_flushes_the_catalogue(account):
    # Runs first of the pair (file order) and ends with a flush of every table.
    assert ReasonCode.objects.filter(code="import_failed").exists()


@pytest.mark.django_db(transaction=True)
def test_catalogue_is_back_for_the_next_transactional_test():
    assert ReasonCode.objects.filter(code="token_expired").exists()
    assert ReasonCode.objects.count() >= 12


@pytest.mark.django_db
def test_catalogue_is_back_for_an_ordinary_test():
    assert ReasonCode.objects.filter(code="payment_failed").exists()
