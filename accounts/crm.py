"""The CRM behind a small adapter interface; HubSpot is the first implementation.

The reconciler only knows ``CrmAdapter``: it pages through companies and asks the adapter what
the CRM should say for an account. A Salesforce adapter (``simple-salesforce``) is another
class with the same three methods, chosen by the ``CRM_ADAPTER`` setting; the reconciler does
not change.
"""

from dataclasses import dataclass
from typing import Protocol

import urllib3
from django.conf import settings
from django.utils.module_loading import import_string

from accounts.choices import LifecycleStage

PAGE_SIZE = 100
# HubSpot's 429s and 5xx are retried with exponential backoff and jitter, like Stripe's.
RETRY = urllib3.Retry(
    total=5,
    backoff_factor=0.5,
    backoff_jitter=0.5,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,
    raise_on_status=False,
)
TRANSPORT_ERRORS = (OSError, urllib3.exceptions.HTTPError)


class CrmUnavailable(Exception):
    """The CRM could not be reached or refused the request."""


@dataclass(frozen=True)
class CrmCompany:
    """A CRM company record, in the CRM's own vocabulary (not translated to ours)."""

    record_id: str
    account_external_id: str
    owner_email: str
    plan: str
    lifecycle_stage: str


@dataclass(frozen=True)
class CrmPage:
    companies: list[CrmCompany]
    next_cursor: str | None


class CrmAdapter(Protocol):
    name: str
    # False when the CRM has no credentials here: the scheduled run is skipped, not failed.
    configured: bool

    def companies_page(self, *, cursor: str | None) -> CrmPage:
        """One page of the companies linked to an account (carrying its external id)."""

    def expected_lifecycle_stage(self, stage: str) -> str:
        """The CRM's lifecycle value for one of our stages (several may map to one)."""

    def expected_plan(self, plan: str) -> str:
        """The CRM's plan or tier value for one of our plans."""


def crm_adapter() -> CrmAdapter:
    return import_string(settings.CRM_ADAPTER)()


class HubSpotAdapter:
    """HubSpot CRM v3 through ``hubspot-api-client``.

    Companies carry our account id in the custom property ``opsconsole_account_id`` and the
    plan in ``opsconsole_plan``; the owner is HubSpot's ``hubspot_owner_id``, translated to an
    email through the owners API once per adapter.
    """

    name = "hubspot"
    ACCOUNT_PROPERTY = "opsconsole_account_id"
    PLAN_PROPERTY = "opsconsole_plan"
    LIFECYCLE = {
        LifecycleStage.SIGNED_UP: "opportunity",
        LifecycleStage.ONBOARDING: "customer",
        LifecycleStage.ACTIVATED: "customer",
        LifecycleStage.AT_RISK: "customer",
        LifecycleStage.CHURNED: "other",
    }

    def __init__(self, *, access_token: str | None = None, base_url: str | None = None):
        from hubspot import HubSpot

        base = (base_url or settings.HUBSPOT_API_BASE).rstrip("/")
        self.client = HubSpot(
            access_token=access_token or settings.HUBSPOT_ACCESS_TOKEN or "unset",
            host=base,
            base_url=base,
            retry=RETRY,
        )
        self._owner_emails: dict[str, str] | None = None
        self.configured = bool(access_token or settings.HUBSPOT_ACCESS_TOKEN)

    def _owners(self) -> dict[str, str]:
        if self._owner_emails is None:
            from hubspot.crm.owners import ApiException

            emails, after = {}, None
            try:
                while True:
                    page = self.client.crm.owners.owners_api.get_page(limit=PAGE_SIZE, after=after)
                    emails.update({str(o.id): o.email or "" for o in page.results})
                    after = page.paging.next.after if page.paging and page.paging.next else None
                    if after is None:
                        break
            except (ApiException, *TRANSPORT_ERRORS) as exc:
                raise CrmUnavailable(f"HubSpot owners: {exc}") from exc
            self._owner_emails = emails
        return self._owner_emails

    def companies_page(self, *, cursor: str | None) -> CrmPage:
        from hubspot.crm.companies import ApiException, PublicObjectSearchRequest

        request = PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": self.ACCOUNT_PROPERTY, "operator": "HAS_PROPERTY"}]}
            ],
            properties=[self.ACCOUNT_PROPERTY, self.PLAN_PROPERTY, "lifecyclestage", "hubspot_owner_id"],
            sorts=["hs_object_id"],
            limit=PAGE_SIZE,
            after=cursor,
        )
        try:
            result = self.client.crm.companies.search_api.do_search(public_object_search_request=request)
        except (ApiException, *TRANSPORT_ERRORS) as exc:
            raise CrmUnavailable(f"HubSpot company search: {exc}") from exc
        owners = self._owners()
        companies = [
            CrmCompany(
                record_id=str(c.id),
                account_external_id=(c.properties or {}).get(self.ACCOUNT_PROPERTY) or "",
                owner_email=owners.get(str((c.properties or {}).get("hubspot_owner_id") or ""), ""),
                plan=(c.properties or {}).get(self.PLAN_PROPERTY) or "",
                lifecycle_stage=(c.properties or {}).get("lifecyclestage") or "",
            )
            for c in result.results
        ]
        after = result.paging.next.after if result.paging and result.paging.next else None
        return CrmPage(companies=companies, next_cursor=after)

    def expected_lifecycle_stage(self, stage: str) -> str:
        return self.LIFECYCLE.get(stage, "")

    def expected_plan(self, plan: str) -> str:
        return plan
