"""The help desk's updates and the product's known-issue banners (REST API v1)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.api.idempotency import REPLAYED_HEADER
from opsconsole.errors import ValidationFailed
from routing.choices import KnownIssueStatus, Rating, UpdateKind
from routing.support.selectors import known_issues_for_banner
from routing.support.services.updates import MAX_COMMENT_CHARS, ticket_update_apply


class TicketUpdateSerializer(serializers.Serializer):
    update_id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=UpdateKind.choices)
    occurred_at = serializers.DateTimeField()
    public = serializers.BooleanField(required=False, allow_null=True, default=None)
    rating = serializers.ChoiceField(choices=Rating.choices, required=False, allow_blank=True, default="")
    comment = serializers.CharField(
        max_length=MAX_COMMENT_CHARS, required=False, allow_blank=True, default=""
    )


class TicketUpdateResultSerializer(serializers.Serializer):
    update_id = serializers.CharField()
    type = serializers.CharField()
    ticket = serializers.DictField()
    effect = serializers.DictField()


def update_answer(update) -> dict:
    ticket = update.ticket
    return {
        "update_id": update.update_id,
        "type": update.kind,
        "occurred_at": update.occurred_at.isoformat(),
        "effect": update.effect,
        "ticket": {
            "source": ticket.source,
            "external_id": ticket.external_id,
            "status": ticket.status,
            "first_response_at": ticket.first_response_at.isoformat() if ticket.first_response_at else None,
            "solved_at": ticket.solved_at.isoformat() if ticket.solved_at else None,
            "reopen_count": ticket.reopen_count,
            "csat": ticket.csat_rating or None,
        },
    }


class TicketUpdateView(APIView):
    """The help desk's updates about one ticket; idempotent by (source, update_id)."""

    required_permissions = {"POST": ["routing.add_ticketupdate"]}
    token_scopes = {"POST": "tickets:write"}

    @extend_schema(
        request=TicketUpdateSerializer,
        responses={201: TicketUpdateResultSerializer, 200: TicketUpdateResultSerializer},
        description="agent_replied (public or internal), customer_replied, solved, reopened or "
        "satisfaction (rating good/bad, optional comment). A repeat of (source, update_id) answers "
        "200 with the first answer and Idempotent-Replayed: true; an unknown ticket 404. Updates "
        "may arrive in any order: none moves the ticket backwards.",
    )
    def post(self, request, source: str, external_id: str):
        serializer = TicketUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update, created = ticket_update_apply(
            source=source,
            external_id=external_id,
            update_id=data["update_id"],
            kind=data["type"],
            occurred_at=data["occurred_at"],
            public=data["public"],
            rating=data["rating"],
            comment=data["comment"],
            actor=request.user,
        )
        if created:
            return Response(update_answer(update), status=status.HTTP_201_CREATED)
        return Response(update_answer(update), status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})


class KnownIssueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=KnownIssueStatus.choices)
    customer_message = serializers.CharField()
    workaround = serializers.CharField()
    release = serializers.CharField(allow_null=True)
    reason_codes = serializers.ListField(child=serializers.CharField())
    feature_areas = serializers.ListField(child=serializers.CharField())


class KnownIssueListView(APIView):
    """Known issues for the product's banners, newest first; ``?status=`` filters (repeatable)."""

    required_permissions = {"GET": ["routing.view_knownissue"]}
    token_scopes = {"GET": "known-issues:read"}

    @extend_schema(
        parameters=[OpenApiParameter("status", str, many=True, enum=KnownIssueStatus.values)],
        responses={200: KnownIssueSerializer(many=True)},
    )
    def get(self, request):
        statuses = [s for value in request.query_params.getlist("status") for s in value.split(",") if s]
        unknown = sorted(set(statuses) - set(KnownIssueStatus.values))
        if unknown:
            raise ValidationFailed(
                "unknown_status",
                f"Unknown status {', '.join(unknown)}; use one of {', '.join(KnownIssueStatus.values)}.",
            )
        rows = known_issues_for_banner(request.user, statuses=statuses)
        return Response(KnownIssueSerializer(rows, many=True).data)
