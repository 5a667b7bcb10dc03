"""``POST /api/v1/actions/{name}/``: the API entry point to ``run_action`` (and its dry run)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.actions.registry import get_action
from opsconsole.actions.selectors import action_run_get, action_target_by_pk, action_target_get
from opsconsole.actions.services import action_run_reverse, run_action
from opsconsole.api.idempotency import HEADER, REPLAYED_HEADER
from opsconsole.errors import NotFound
from opsconsole.models import ActionRun, ActionStatus
from opsconsole.request_id import current_request_id

RUN_PERMISSION = "opsconsole.view_actionrun"


class ActionRequestSerializer(serializers.Serializer):
    target = serializers.CharField(
        max_length=64, help_text="An account's external_id, or an exception's id, as the action needs."
    )
    params = serializers.DictField(required=False, default=dict)
    evidence = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    dry_run = serializers.BooleanField(required=False, default=False)
    preview_token = serializers.CharField(required=False, allow_blank=True, default="")
    reverses = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Reverse this action run instead."
    )


class ActionRunSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")
    approval = serializers.SerializerMethodField()
    deliveries = serializers.SerializerMethodField()

    class Meta:
        model = ActionRun
        fields = [
            "id",
            "action",
            "actor",
            "target_repr",
            "params",
            "evidence",
            "status",
            "error_code",
            "error_message",
            "changes",
            "external_commands",
            "result",
            "request_id",
            "reversal_of",
            "created_at",
            "finished_at",
            "approval",
            "deliveries",
        ]

    def get_approval(self, run) -> dict | None:
        approval = getattr(run, "approval", None)
        if approval is None:
            return None
        return {"status": approval.status, "reason": approval.reason, "expires_at": approval.expires_at}

    def get_deliveries(self, run) -> list[dict]:
        return [
            {"command_id": str(m.pk), "command": m.command, "status": m.status, "attempts": m.attempts}
            for m in run.outbox_messages.all()
        ]


class ActionRunView(APIView):
    """Run a guarded action. ``dry_run`` returns a preview and a ``preview_token``; sending the
    token back commits exactly that preview. A live run needs ``Idempotency-Key`` unless it
    commits a preview."""

    required_permissions = {"POST": [RUN_PERMISSION]}
    token_scopes = {"POST": "actions:run"}

    @extend_schema(
        request=ActionRequestSerializer,
        parameters=[
            OpenApiParameter(HEADER, str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter("X-Request-ID", str, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            200: OpenApiResponse(description="A dry-run preview with its preview_token, or a replayed run."),
            201: inline_serializer("ActionRunCreated", {"action_run": ActionRunSerializer()}),
            202: inline_serializer("ActionRunAwaitingApproval", {"action_run": ActionRunSerializer()}),
        },
    )
    def post(self, request, name: str):
        action = get_action(name)
        body = ActionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        common = {
            "actor": request.user,
            "dry_run": data["dry_run"],
            "preview_token": data["preview_token"],
            "idempotency_key": request.headers.get(HEADER, ""),
        }
        if data["reverses"] is not None:
            original = action_run_get(data["reverses"], user=request.user)
            if original.action != action.name:
                raise NotFound("action_run_not_found", f"Run {original.pk} is not a {action.name} run.")
            action_target_by_pk(action=action, pk=original.target_id, user=request.user)
            outcome = action_run_reverse(run=original, entry_point="api", **common)
        else:
            outcome = run_action(
                name=action.name,
                target=action_target_get(action=action, public_id=data["target"], user=request.user),
                params=data["params"],
                evidence=data["evidence"],
                request_id=current_request_id(),
                entry_point="api",
                **common,
            )
        if outcome.preview is not None:
            return Response(
                {"dry_run": True, "preview": outcome.preview, "preview_token": outcome.preview_token}
            )
        payload = {"action_run": ActionRunSerializer(outcome.run).data}
        if outcome.duplicate:
            return Response(payload, status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})
        if outcome.run.status == ActionStatus.AWAITING_APPROVAL:
            return Response(payload, status=status.HTTP_202_ACCEPTED)
        return Response(payload, status=status.HTTP_201_CREATED)


class ActionRunDetailView(APIView):
    required_permissions = {"GET": [RUN_PERMISSION]}
    token_scopes = {"GET": "actions:read"}

    @extend_schema(
        responses=ActionRunSerializer,
        parameters=[
            OpenApiParameter("pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The run's id.")
        ],
    )
    def get(self, request, pk: str):
        # Any text reaches the view (a JSON 404 rather than the console's HTML one for "abc").
        if not pk.isascii() or not pk.isdigit():
            raise NotFound("action_run_not_found", f"No action run {pk!r}.")
        run = action_run_get(int(pk), user=request.user)
        return Response(ActionRunSerializer(run).data)
