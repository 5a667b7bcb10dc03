from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.api.idempotency import REPLAYED_HEADER
from routing.api.serializers import TicketIntakeResultSerializer, TicketIntakeSerializer
from routing.services.intake import ticket_intake


def intake_answer(ticket) -> dict:
    return {
        "ticket": {
            "id": ticket.pk,
            "source": ticket.source,
            "external_id": ticket.external_id,
            "account": ticket.context.get("account_external_id"),
            "account_match": ticket.account_match,
        },
        **ticket.intake_result,
    }


class TicketIntakeView(APIView):
    """Ticket intake from the help desk; idempotent on (source, external_id)."""

    required_permissions = {"POST": ["routing.add_ticket"]}
    token_scopes = {"POST": "tickets:write"}

    @extend_schema(
        request=TicketIntakeSerializer,
        responses={201: TicketIntakeResultSerializer, 200: TicketIntakeResultSerializer},
        description="Routes the ticket and answers with category, severity, queue, owner, rule, "
        "reason and SLA due times. `created_at` (optional) is the help desk's own time of the "
        "ticket, for backfills and replays: the SLA clocks start from it; it defaults to now and "
        "may not be in the future beyond a small clock skew. A repeat of (source, external_id) "
        "answers 200 with the first result and the header Idempotent-Replayed: true.",
    )
    def post(self, request):
        serializer = TicketIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        ticket, created = ticket_intake(
            account_external_id=data.pop("account", None) or None,
            received_at=data.pop("created_at", None),
            actor=request.user,
            **data,
        )
        if created:
            return Response(intake_answer(ticket), status=status.HTTP_201_CREATED)
        return Response(intake_answer(ticket), status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"})
