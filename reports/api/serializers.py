"""The reports API's shapes (METRICS.md), for the OpenAPI schema: the views answer with the
report values' own ``as_dict()``, and these describe exactly that."""

from rest_framework import serializers

from reports.metrics import DISTRIBUTION, METRICS, PERIODS, QUEUE, TICKET_METRICS


class MetricValueSerializer(serializers.Serializer):
    value = serializers.FloatField(
        allow_null=True, help_text="null when no account is mature yet (never 0). Rates are fractions."
    )
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True, help_text="null for a plain count.")
    complete = serializers.BooleanField(help_text="Every cohort member is mature.")
    pending = serializers.IntegerField(help_text="Cohort members not mature yet.")
    version = serializers.IntegerField(help_text="The definition's version.")


class DistributionSerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True, help_text="Hours.")
    p90 = serializers.FloatField(allow_null=True, help_text="Hours.")
    n = serializers.IntegerField()
    version = serializers.IntegerField()


class QueueAgeSerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True, help_text="Hours.")
    p90 = serializers.FloatField(allow_null=True, help_text="Hours.")
    p99 = serializers.FloatField(allow_null=True, help_text="Hours.")
    n = serializers.IntegerField(help_text="Tickets open now.")
    past_target = serializers.IntegerField(help_text="Open tickets with an SLA target already due.")
    version = serializers.IntegerField()


class DefinitionSerializer(serializers.Serializer):
    text = serializers.CharField()
    window = serializers.CharField(help_text='"24h", "7d", "shape" (the shape\'s activation window), ...')
    version = serializers.IntegerField()


def _metric_field(code: str) -> serializers.Serializer:
    kind = METRICS[code].kind
    value = {DISTRIBUTION: DistributionSerializer, QUEUE: QueueAgeSerializer}.get(kind, MetricValueSerializer)
    return value(required=False, help_text=METRICS[code].text)


# One field per metric, so the schema names each one and its shape.
ReportMetricsSerializer = type(
    "ReportMetricsSerializer", (serializers.Serializer,), {code: _metric_field(code) for code in METRICS}
)
ReportDefinitionsSerializer = type(
    "ReportDefinitionsSerializer",
    (serializers.Serializer,),
    {code: DefinitionSerializer(required=False) for code in METRICS},
)


class ReportFiltersSerializer(serializers.Serializer):
    shape = serializers.CharField(allow_null=True)
    plan = serializers.CharField(allow_null=True)


class ReportChannelSerializer(serializers.Serializer):
    channel = serializers.CharField(
        help_text="The channel's code; `unmatched` (after the channels) holds the tickets with no "
        f"matched account and carries only the ticket metrics ({', '.join(TICKET_METRICS)})."
    )
    metrics = ReportMetricsSerializer()


class ReportTotalSerializer(serializers.Serializer):
    metrics = ReportMetricsSerializer()


class ChannelReportSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    since = serializers.DateField()
    until = serializers.DateField()
    filters = ReportFiltersSerializer()
    channels = ReportChannelSerializer(many=True)
    total = ReportTotalSerializer()
    definitions = ReportDefinitionsSerializer()


class CohortRowSerializer(serializers.Serializer):
    channel = serializers.CharField()
    period_start = serializers.DateField(help_text="The day, or the Monday of the ISO week.")
    value = serializers.FloatField(allow_null=True, help_text="For time_to_first_value_h, its p50.")
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True, help_text="For time_to_first_value_h, its n.")
    complete = serializers.BooleanField()
    pending = serializers.IntegerField()


class CohortsSerializer(serializers.Serializer):
    metric = serializers.CharField()
    period = serializers.ChoiceField(choices=PERIODS)
    rows = CohortRowSerializer(many=True)
