"""The API's one error envelope: `{"error": "<code>", "message": "<text>"}`.

Every error the JSON API returns goes through `exception_handler`, so clients
see the same shape for a 400 from a serializer, a 401 from a permission, a 404
from `get_object_or_404`, and a 500 we did not foresee.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "bad_request",
    409: "conflict",
    413: "payload_too_large",
    415: "bad_request",
    429: "rate_limited",
    503: "misconfigured",
}

# How long a client should wait before retrying a write the database was too
# busy to take (the sweep's apply transaction is the longest writer).
BUSY_RETRY_AFTER_SECONDS = 5
BUSY_MESSAGE = "The database is busy with another write; retry in a few seconds."
OUT_OF_RANGE_MESSAGE = "A number in the request is out of range."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Misconfigured(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This feature is not configured on this server."
    default_code = "misconfigured"


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "payload_too_large"


def is_database_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" (or "table is locked"), still so after the busy timeout."""
    return isinstance(exc, OperationalError) and "is locked" in str(exc)


def busy_response() -> JsonResponse:
    """503 with Retry-After: a write that found the database locked, never a bare 500."""
    response = JsonResponse(error_body("busy", BUSY_MESSAGE), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def _known_bad_input(exc: BaseException) -> exceptions.APIException | None:
    """Input faults that surface as non-DRF exceptions, as the 4xx they are."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, OverflowError):
        # An id past the database's 64-bit integers (path or body).
        return BadRequest(OUT_OF_RANGE_MESSAGE)
    return None


def error_body(code: str, message: str, details=None) -> dict:
    body = {"error": code, "message": message}
    if details:
        body["details"] = details
    return body


def _message_and_details(exc: exceptions.APIException) -> tuple[str, object | None]:
    detail = exc.detail
    if isinstance(detail, dict | list):
        return "The request is not valid.", detail
    return str(detail), None


def exception_handler(exc, context):
    """DRF hook: map every exception to the envelope; log and hide the unexpected."""
    if is_database_busy(exc):
        logger.warning("API request refused, database busy: %s", exc)
        return Response(
            error_body("busy", BUSY_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    else:
        exc = _known_bad_input(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body("internal", "Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = CODES_BY_STATUS.get(response.status_code, "bad_request")
    message, details = _message_and_details(exc)
    response.data = error_body(code, message, details)
    return response


def json_error(code: str, message: str, status_code: int) -> JsonResponse:
    """The envelope outside DRF (e.g. 404 for an unknown /api/ path)."""
    return JsonResponse(error_body(code, message), status=status_code)


class DatabaseBusyMiddleware:
    """Pages (and anything outside DRF) answer 503 + Retry-After when the database stays locked.

    The API's own handler does the same inside DRF; this covers the rest, so
    no request ever ends in a bare 500 for a lock that a retry would get past.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_busy(exception):
            return None
        logger.warning("Request refused, database busy: %s", exception)
        if request.path.startswith("/api/"):
            return busy_response()
        response = render(
            request, "503.html", {"retry_after": BUSY_RETRY_AFTER_SECONDS}, status=503
        )
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        return response
