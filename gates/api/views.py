"""REST API v1 for gates: whether a channel may ramp."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Channel
from gates.api.serializers import RampStatusSerializer
from gates.selectors import ramp_status
from opsconsole.api.schema import COMMON_ERRORS, error_response
from opsconsole.errors import NotFound
from opsconsole.roles import VIEW_RAMP


class RampStatusView(APIView):
    required_permissions = {"GET": [VIEW_RAMP]}
    token_scopes = {"GET": "gates:read"}

    @extend_schema(
        operation_id="channels_ramp_status",
        summary="Whether a channel may ramp, with its stop rules' measured values",
        description=(
            "`ramp` and `decision` are null where none exists. `may_ramp` is true only for a "
            "ramping plan whose latest signed decision is proceed and where no stop rule is "
            "tripped or held (insufficient data). Each stop rule carries its latest evaluation's "
            "measured values. Needs `gates.view_ramp` (ops_lead, leadership, analytics)."
        ),
        responses={200: RampStatusSerializer, 404: error_response("`unknown_channel`."), **COMMON_ERRORS},
    )
    def get(self, request, code: str):
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise NotFound("unknown_channel", f"There is no channel {code!r}.", {"channel": code})
        return Response(RampStatusSerializer(ramp_status(channel)).data)
