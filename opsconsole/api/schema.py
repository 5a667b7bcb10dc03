"""Schema pieces every API module shares, so the OpenAPI document describes errors once."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `account_exists`.")
    message = serializers.CharField(help_text="For people.")
    details = serializers.DictField(help_text="Field errors or ids, depending on the code.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


COMMON_ERRORS = {
    401: error_response("No valid `Authorization: Token <key>` (missing, unknown or revoked)."),
    403: error_response("The token's role does not grant this endpoint and method."),
}
