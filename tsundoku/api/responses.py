"""OpenAPI responses and auth requirements that every app's endpoints document alike."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from tsundoku.api.serializers import ErrorSerializer

BAD_REQUEST = OpenApiResponse(ErrorSerializer, description="Invalid parameters (`details`).")
UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer, description="Reads require a key or login (`auth.read_requires_auth`)."
)
ADMIN_ONLY = OpenApiResponse(ErrorSerializer, description="Admin credentials required.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object.")
MISCONFIGURED = OpenApiResponse(
    ErrorSerializer, description="A bearer token was sent but `auth.admin_token` is not set."
)
ADMIN_ERRORS = {401: ADMIN_ONLY, 503: MISCONFIGURED}
# Reads are open by default (`{}`); with `auth.read_requires_auth` they take the
# read key, and the admin's credentials always work.
READ_AUTH = [{}, {"readKey": []}, {"adminToken": []}, {"cookieAuth": []}]
