"""Server-wide endpoints: liveness (`/api/v1/health`) and identity (`/api/v1/info`)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import tsundoku
from tsundoku.access import ReadTier
from tsundoku.api.responses import READ_AUTH, UNAUTHORIZED
from tsundoku.api.serializers import HealthSerializer, InfoSerializer


class HealthView(APIView):
    # Liveness probes (Docker, uptime monitors) carry no key, and the answer
    # reveals nothing, so health stays open even when reads need a key.
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health",
        summary="Liveness and database check",
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response(
                {"status": "unavailable", "database": "error"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": "ok"})


class InfoView(APIView):
    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="info",
        auth=READ_AUTH,
        summary="Server name and version",
        responses={200: InfoSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        return Response({"name": "tsundoku", "version": tsundoku.__version__})
