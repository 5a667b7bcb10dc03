"""Querysets of the account's parts, apart from the models so both stay small."""

from opsconsole.restrict import RestrictedQuerySet


class AccountPartQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action: str) -> RestrictedQuerySet:
        # Exceptions, events, steps, overrides, drifts, Stripe events: as visible as their account.
        return self.restrict_through("account", user, action)
