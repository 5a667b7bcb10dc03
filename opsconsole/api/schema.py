"""Schema pieces every API module shares, so the OpenAPI document describes errors once.

:class:`ConsoleAutoSchema` documents, on every operation, the error answers any of them can
give (a malformed body, no or a refused token, a throttle, ...), and states in the schema
what the serializers enforce on input: a required text may not be blank (``minLength`` 1,
and at least one non-space character, since DRF trims whitespace).
"""

from drf_spectacular.openapi import AutoSchema
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
    401: error_response("No valid `Authorization: Token <key>` (missing, unknown, revoked or expired)."),
    403: error_response("The token's role or scopes do not grant this endpoint and method."),
}

# What any operation may answer besides its own documented outcomes.
ANY_OPERATION_ERRORS = {
    400: error_response("`malformed_request` (not JSON) or `invalid` (see `details`)."),
    **COMMON_ERRORS,
    404: error_response("`not_found`: no such object visible to you (or no such path)."),
    405: error_response("`method_not_allowed`."),
    406: error_response("`not_acceptable`: the API answers JSON only."),
    413: error_response("`request_too_large`: the body is over the size limit."),
    415: error_response("`unsupported_media_type`: send `application/json`."),
    429: error_response("`throttled`: over this token's rate; retry after `Retry-After` seconds."),
}
# And what any write may answer: the idempotency ledger's conflicts.
WRITE_ERRORS = {
    409: error_response("`conflict`: e.g. the same Idempotency-Key still in flight, or the object exists."),
    422: error_response("`unprocessable`: e.g. an Idempotency-Key reused with another body."),
}
# DRF's CharField refuses U+0000 and, unless blank is allowed, a text that trims to nothing.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"


class ConsoleAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = dict(ANY_OPERATION_ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            extra.update(WRITE_ERRORS)
        for code, response in extra.items():
            documented = self._get_response_for_code(response, str(code), direction=direction)
            responses.setdefault(str(code), documented)
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"format", "pattern", "enum"} & set(schema)
        ):
            if field.allow_blank or not field.trim_whitespace:
                schema["pattern"] = NO_NUL
            else:
                schema.setdefault("minLength", 1)
                schema["pattern"] = NOT_BLANK
        return schema
