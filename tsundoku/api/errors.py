"""The API's one error envelope: `{"error": "<code>", "message": "<text>"}`.

Every error the JSON API returns goes through `exception_handler`, so clients
see the same shape for a 400 from a serializer, a 401 from a permission, a 404
from `get_object_or_404`, and a 500 we did not foresee.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    406: "bad_request",
    409: "conflict",
    415: "bad_request",
    429: "rate_limited",
    503: "misconfigured",
}


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
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
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
