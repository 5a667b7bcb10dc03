"""The CRM behind a small adapter interface; HubSpot is the first implementation.

The reconciler only knows ``CrmAdapter``: it pages through companies and asks the adapter what
the CRM should say for an account. Pushing our value back (the ``push_to_crm`` action, the
automatic lifecycle push) asks the adapter to translate a field into the CRM's properties and
to update the company. A Salesforce adapter (``simple-salesforce``) is another class with the
same methods, chosen by the ``CRM_ADAPTER`` setting; the reconciler does not change.
"""

from dataclasses import dataclass
from functools import partial
from typing import Protocol

import urllib3
from django.conf import settings
from django.utils.module_loading import import_string

from accounts.choices import LifecycleStage
from opsconsole.outbox import Attempt

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

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class CrmCannotRepresent(Exception):
    """Our value has no counterpart in the CRM (an owner the CRM has no user for)."""


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

    def company_properties(self, *, field: str, account) -> dict[str, str]:
        """The CRM properties that say what we hold for one of ``rules.CRM_DRIFT_KINDS``' fields.

        Raises ``CrmCannotRepresent`` when the CRM has no value for ours.
        """

    def update_company(self, *, record_id: str, properties: dict[str, str]) -> None:
        """Write properties to one company. Raises ``CrmUnavailable`` when that fails."""


def crm_adapter() -> CrmAdapter:
    return import_string(settings.CRM_ADAPTER)()


# The outbox destination of CRM pushes, registered from accounts/apps.py.
OUTBOX_DESTINATION = "crm"


def crm_outbox_sender():
    """How this process delivers a CRM push: through the configured adapter, or None when the
    CRM has no credentials here (the push is logged, not sent)."""
    adapter = crm_adapter()
    return partial(_company_update_attempt, adapter) if adapter.configured else None


def _company_update_attempt(adapter: CrmAdapter, message) -> Attempt:
    """One delivery attempt of a CRM push; writing the same values twice changes nothing there."""
    queued_for = message.payload.get("crm")
    if queued_for and queued_for != adapter.name:
        # The record id belongs to the CRM the push was queued for; another CRM's company
        # with the same id is a different company.
        return Attempt(
            ok=False,
            error=f"queued for the {queued_for} CRM, but CRM_ADAPTER is now {adapter.name}; not sent",
            retry=False,
        )
    try:
        adapter.update_company(
            record_id=message.payload["record_id"], properties=message.payload["properties"]
        )
    except CrmUnavailable as exc:
        return Attempt.failed(status=exc.status, error=str(exc)[:2000])
    return Attempt(ok=True)


def owner_email(account) -> str:
    return account.owner.email if account.owner_id else ""


def expected_values(adapter: CrmAdapter, account) -> dict[str, str]:
    """What the CRM should say for each mirrored field, in the CRM's vocabulary (owners are
    compared by email)."""
    return {
        "owner": owner_email(account),
        "plan": adapter.expected_plan(account.plan),
        "lifecycle_stage": adapter.expected_lifecycle_stage(account.lifecycle_stage),
    }


def record_ref(adapter: CrmAdapter, record_id: str) -> str:
    """How drift names a CRM record: the adapter too, since ids mean nothing across CRMs."""
    return f"{adapter.name}:{record_id}"


def parse_record_ref(ref: str) -> tuple[str, str]:
    name, _, record_id = (ref or "").partition(":")
    return name, record_id


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

    def company_properties(self, *, field: str, account) -> dict[str, str]:
        if field == "owner":
            return {"hubspot_owner_id": self._owner_id(owner_email(account))}
        if field == "plan":
            return {self.PLAN_PROPERTY: self.expected_plan(account.plan)}
        if field == "lifecycle_stage":
            return {"lifecyclestage": self.expected_lifecycle_stage(account.lifecycle_stage)}
        raise ValueError(f"HubSpot companies do not mirror {field!r}")

    def _owner_id(self, email: str) -> str:
        if not email:
            return ""  # no owner here: clear it there
        matches = sorted(oid for oid, e in self._owners().items() if e.lower() == email.lower())
        if not matches:
            raise CrmCannotRepresent(f"No HubSpot owner has the email {email}.")
        return matches[0]

    def update_company(self, *, record_id: str, properties: dict[str, str]) -> None:
        from hubspot.crm.companies import ApiException, SimplePublicObjectInput

        # HubSpot silently ignores a lifecycle stage earlier than the current one unless the
        # stage is cleared first, in a request of its own. Clearing then setting ends in the
        # same state however often it is repeated.
        steps = [properties]
        if properties.get("lifecyclestage"):
            steps.insert(0, {"lifecyclestage": ""})
        try:
            for step in steps:
                self.client.crm.companies.basic_api.update(
                    company_id=record_id,
                    simple_public_object_input=SimplePublicObjectInput(properties=step),
                )
        except ApiException as exc:
            raise CrmUnavailable(f"HubSpot company {record_id} update: {exc}", status=exc.status) from exc
        except TRANSPORT_ERRORS as exc:
            raise CrmUnavailable(f"HubSpot company {record_id} update: {exc}") from exc
