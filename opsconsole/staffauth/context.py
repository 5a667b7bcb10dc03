"""Template context for every page: whether the console runs without a second factor (the demo)."""

from django.conf import settings


def staff_auth(request) -> dict:
    return {"two_factor_off": not settings.TWO_FACTOR_REQUIRED}
