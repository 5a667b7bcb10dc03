"""REST API v1 for the product: signups, account reads, provisioning status and events."""

import json

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    AccountCreateSerializer,
    AccountSerializer,
    EntitlementSerializer,
    EntitlementsSerializer,
    EventIntakeBodySerializer,
    EventIntakeResultSerializer,
    EventSerializer,
    ProvisioningStatusSerializer,
)
from accounts.rejections import RejectionReason
from accounts.selectors import (
    account_get,
    accounts_visible_by_external_id,
    entitlements_for,
    provisioning_status,
)
from accounts.services.accounts import account_create
from accounts.services.events import (
    EventInput,
    Rejection,
    account_events_record_batch,
    rejected_events_record,
)
from opsconsole.api.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    REPLAYED_HEADER_PARAMETER,
    idempotent_response,
)
from opsconsole.api.schema import COMMON_ERRORS, error_response
from opsconsole.errors import ValidationFailed

MAX_EVENTS_PER_BATCH = 500

NOT_FOUND = {404: error_response("No account with this external_id is visible to you.")}


class AccountCreateView(APIView):
    required_permissions = {"POST": ["accounts.add_account"]}
    token_scopes = {"POST": "accounts:write"}

    @extend_schema(
        operation_id="accounts_create",
        summary="Create an account from a signup",
        request=AccountCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER, REPLAYED_HEADER_PARAMETER],
        responses={
            201: AccountSerializer,
            400: error_response(
                "`idempotency_key_required`, `malformed_request`, or `invalid` with field errors."
            ),
            409: error_response(
                "`account_exists` (the external_id exists under another key) or "
                "`idempotency_request_in_flight`."
            ),
            422: error_response("`idempotency_key_reused`: this key came with another body."),
            **COMMON_ERRORS,
        },
    )
    def post(self, request):
        def perform():
            signup = AccountCreateSerializer(data=request.data)
            signup.is_valid(raise_exception=True)
            account = account_create(**signup.validated_data, actor=request.user)
            return status.HTTP_201_CREATED, AccountSerializer(account).data

        return idempotent_response(request, scope="accounts.create", perform=perform)


class AccountDetailView(APIView):
    required_permissions = {"GET": ["accounts.view_account"]}
    token_scopes = {"GET": "accounts:read"}

    @extend_schema(
        operation_id="accounts_retrieve",
        summary="An account with its provisioning status",
        responses={200: AccountSerializer, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request, external_id: str):
        account = account_get(external_id=external_id, user=request.user)
        return Response(AccountSerializer(account).data)


class ProvisioningStatusView(APIView):
    required_permissions = {"GET": ["accounts.view_account", "accounts.view_provisioningstep"]}
    token_scopes = {"GET": "accounts:read"}

    @extend_schema(
        operation_id="accounts_provisioning_status",
        summary="Where the account's setup stands, and what the customer must do if it is blocked",
        responses={200: ProvisioningStatusSerializer, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request, external_id: str):
        account = account_get(external_id=external_id, user=request.user)
        return Response(ProvisioningStatusSerializer(provisioning_status(account)).data)


class EntitlementsView(APIView):
    required_permissions = {"GET": ["accounts.view_account", "accounts.view_entitlementoverride"]}
    token_scopes = {"GET": "accounts:read"}

    @extend_schema(
        operation_id="accounts_entitlements",
        summary="Features and limits from shape, plan and overrides",
        responses={200: EntitlementsSerializer, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request, external_id: str):
        account = account_get(external_id=external_id, user=request.user)
        entitlements = EntitlementSerializer(entitlements_for(account), many=True).data
        return Response({"account": account.external_id, "entitlements": entitlements})


class EventIntakeView(APIView):
    required_permissions = {"POST": ["accounts.add_accountevent"]}
    token_scopes = {"POST": "events:write"}

    @extend_schema(
        operation_id="events_create",
        summary="Record product events, one or a batch of up to 500",
        description=(
            'Send one event, or `{"events": [...]}` with 1 to 500. Each event is judged on its '
            "own: valid ones are stored, invalid ones (bad fields, unknown account) are listed in "
            "`rejected` by their index. The answer is 200 whenever the request itself was "
            "well-formed, even if some or all events were rejected; a repeated `event_id` counts "
            "as a duplicate and is stored once. A malformed body or a batch over 500 is a 400 "
            "and stores nothing."
        ),
        request=EventIntakeBodySerializer,
        responses={
            200: EventIntakeResultSerializer,
            400: error_response("`malformed_request`, `invalid_batch` or `batch_too_large`."),
            **COMMON_ERRORS,
        },
        examples=[
            OpenApiExample(
                "One event",
                request_only=True,
                value={
                    "event_id": "evt_01",
                    "account": "acct_123",
                    "type": "integration.failed",
                    "occurred_at": "2026-11-20T10:00:00Z",
                    "error_code": "token_expired",
                    "feature_area": "integrations",
                },
            )
        ],
    )
    def post(self, request):
        items = _event_items(request.data)
        valid, rejected, kept = [], [], []
        for index, item in enumerate(items):
            event = EventSerializer(data=item)
            if event.is_valid():
                valid.append((index, event.validated_data))
            else:
                rejected.append({"index": index, "errors": event.errors})
                kept.append(_invalid_rejection(item, event.errors))

        accounts = accounts_visible_by_external_id(
            user=request.user, external_ids={data["account"] for _, data in valid}
        )
        to_record = []
        for index, data in valid:
            account = accounts.get(data["account"])
            if account is None:
                unknown = f"No account with external_id {data['account']!r}."
                rejected.append({"index": index, "errors": {"account": [unknown]}})
                kept.append(
                    Rejection(
                        reason=RejectionReason.UNKNOWN_ACCOUNT,
                        errors={"account": [unknown]},
                        event_id=data["event_id"],
                        account_ref=data["account"],
                        type=data["type"],
                        occurred_at=data["occurred_at"],
                    )
                )
                continue
            to_record.append((account, _event_input(data)))
        if kept:
            # The data-quality panel counts what the intake refused (reports, issue 12).
            rejected_events_record(rejections=kept, actor=request.user)
        result = account_events_record_batch(events=to_record, actor=request.user)
        rejected.sort(key=lambda r: r["index"])
        body = {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected}
        return Response(body, status=status.HTTP_200_OK)


def _invalid_rejection(item, errors) -> Rejection:
    """A refusal for invalid fields, with whatever id, account and type the item carried."""
    item = item if isinstance(item, dict) else {}

    def text(name: str) -> str:
        # PostgreSQL stores no NUL in text: a refused "e\x00" must not fail the whole batch.
        value = item.get(name)
        return value.replace("\x00", "") if isinstance(value, str) else ""

    return Rejection(
        reason=RejectionReason.INVALID,
        errors=json.loads(json.dumps(errors, default=str).replace("\\u0000", "")),
        event_id=text("event_id"),
        account_ref=text("account"),
        type=text("type"),
    )


def _event_input(data: dict) -> EventInput:
    return EventInput(
        event_id=data["event_id"],
        type=data["type"],
        occurred_at=data["occurred_at"],
        request_id=data["request_id"],
        error_code=data["error_code"],
        feature_area=data["feature_area"],
        payload=data["data"],
    )


def _event_items(data) -> list:
    """The events of a request: a single event object, or the list under ``events``."""
    if not isinstance(data, dict):
        raise ValidationFailed("invalid_batch", 'Send one event object or {"events": [...]}.')
    if "events" not in data:
        return [data]
    events = data["events"]
    if not isinstance(events, list) or not events:
        raise ValidationFailed("invalid_batch", "`events` must be a non-empty list of event objects.")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise ValidationFailed(
            "batch_too_large",
            f"A batch holds at most {MAX_EVENTS_PER_BATCH} events; this one has {len(events)}.",
            {"max": MAX_EVENTS_PER_BATCH, "received": len(events)},
        )
    return events
