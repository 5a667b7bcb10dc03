"""REST API v1 for reports: metrics by channel and by cohort, exactly as METRICS.md says."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.shapes import PLANS, SHAPES
from opsconsole.api.schema import COMMON_ERRORS, error_response
from opsconsole.roles import VIEW_DASHBOARD
from reports.api.serializers import ChannelReportSerializer, CohortsSerializer
from reports.metrics import COHORT_METRICS, PERIODS, WEEK, channel_report, cohort_rows
from reports.query import query_filters, query_text

BAD_QUERY = error_response(
    "`missing_parameter`, `invalid_date` (not YYYY-MM-DD), `date_out_of_range` (before 1970-01-01 "
    "or after 2999-12-31), `invalid_range` (until <= since), "
    "`range_too_long` (over 366 days), `unknown_shape`, `unknown_plan`, `unknown_metric`, "
    "`unknown_period` or `not_a_cohort_metric`."
)
RANGE_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, required=True, description="First signup day (UTC)."),
    OpenApiParameter("until", OpenApiTypes.DATE, required=True, description="Day after the last (UTC)."),
    OpenApiParameter("shape", OpenApiTypes.STR, enum=sorted(SHAPES), description="Only this shape."),
    OpenApiParameter("plan", OpenApiTypes.STR, enum=sorted(PLANS), description="Only this plan."),
]


class ChannelReportView(APIView):
    required_permissions = {"GET": [VIEW_DASHBOARD]}
    token_scopes = {"GET": "reports:read"}

    @extend_schema(
        operation_id="reports_channels",
        summary="Every metric by acquisition channel, with totals and definitions",
        description=(
            "The cohort: accounts whose signed_up_at falls in [since, until) (dates as midnight "
            "UTC), duplicates excluded. Every channel is listed, even with no signups (values "
            "null; signups 0). A value is null until an account is mature, never 0; `pending` "
            "counts those not mature yet. Rates are fractions (4 places), per-100 values per 100. "
            "`unmatched` follows the channels with the ticket metrics of tickets no account "
            "matched. At most 366 days."
        ),
        parameters=RANGE_PARAMETERS,
        responses={200: ChannelReportSerializer, 400: BAD_QUERY, **COMMON_ERRORS},
    )
    def get(self, request):
        report = channel_report(**query_filters(request.query_params))
        return Response(report.as_dict())


class CohortsView(APIView):
    required_permissions = {"GET": [VIEW_DASHBOARD]}
    token_scopes = {"GET": "reports:read"}

    @extend_schema(
        operation_id="reports_cohorts",
        summary="One metric by channel and signup period (day, or ISO week from Monday)",
        description=(
            "A full grid: every channel (and `unmatched` for a ticket metric) for every period "
            "holding a day of [since, until). For time_to_first_value_h, `value` is the p50 and "
            "`denominator` the number of activated accounts."
        ),
        parameters=[
            OpenApiParameter("metric", OpenApiTypes.STR, required=True, enum=COHORT_METRICS),
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(PERIODS), description="Default week."),
            *RANGE_PARAMETERS,
        ],
        responses={200: CohortsSerializer, 400: BAD_QUERY, **COMMON_ERRORS},
    )
    def get(self, request):
        params = request.query_params
        metric = query_text(params, "metric", required=True)
        period = query_text(params, "period") or WEEK
        rows = cohort_rows(metric=metric, period=period, **query_filters(params))
        return Response({"metric": metric, "period": period, "rows": [row.as_dict() for row in rows]})
