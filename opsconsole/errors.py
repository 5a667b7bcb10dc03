"""The one error family services raise. The API and the admin translate it for people."""

from typing import Any


class ApplicationError(Exception):
    """A refusal a caller can act on: bad input, a failed precondition, a conflict.

    ``code`` is a stable machine-readable string, ``message`` is for people, ``extra`` carries
    details (field errors, ids). ``status`` is the HTTP status the API answers with.
    """

    status = 400

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None, *, status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}
        if status is not None:
            self.status = status


class ValidationFailed(ApplicationError):
    status = 400


class NotFound(ApplicationError):
    status = 404


class PermissionRefused(ApplicationError):
    status = 403


class Conflict(ApplicationError):
    status = 409


class Unprocessable(ApplicationError):
    status = 422
