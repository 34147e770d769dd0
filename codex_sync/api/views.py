"""The Codex admin API (SPEC §5.5): connection status, refresh, test, hand-linking.

Every view is admin-only (`IsAdmin`: 401 for the read tier). The connection
routes answer 503 `misconfigured` while the integration is disabled; the
per-series routes keep working, so links can be prepared before it is
switched on. Linking goes through `codex_sync.linking`, the same service as
the form on the series page.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codex_sync import linking, overlay
from codex_sync.api.serializers import (
    CodexLinkRequestSerializer,
    CodexLinkSerializer,
    CodexStatusSerializer,
    ConnectionCheckSerializer,
    IgnoreCompletionRequestSerializer,
    IgnoreCompletionSerializer,
    SweepRequestSerializer,
)
from codex_sync.connection import check_connection
from codex_sync.models import SyncTrigger
from codex_sync.overview import check_result, connection_overview
from codex_sync.tasks import CodexDisabled, request_sweep
from feed.models import Series
from tsundoku.access import IsAdmin
from tsundoku.api.errors import Misconfigured
from tsundoku.api.responses import ADMIN_ERRORS, ADMIN_ONLY, BAD_REQUEST, NOT_FOUND
from tsundoku.api.serializers import ErrorSerializer
from tsundoku.api.validation import validated

CONNECTION_ERRORS = {
    401: ADMIN_ONLY,
    503: OpenApiResponse(
        ErrorSerializer,
        description="`misconfigured`: the Codex integration is disabled, or a bearer "
        "token was sent but `auth.admin_token` is not set.",
    ),
}


def _require_enabled() -> None:
    if not overlay.enabled():
        raise Misconfigured(overlay.DISABLED_MESSAGE)


def _series_or_404(series_id: int) -> Series:
    series = Series.objects.filter(pk=series_id).first()
    if series is None:
        raise exceptions.NotFound(f"No series with id {series_id}.")
    return series


class CodexStatusView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="codex_status",
        summary="Codex connection status, sweep progress and recent history (admin)",
        description="Times are epoch seconds. The Codex API key is never part of it.",
        responses={200: CodexStatusSerializer, **CONNECTION_ERRORS},
    )
    def get(self, request: Request) -> Response:
        _require_enabled()
        return Response(CodexStatusSerializer(connection_overview()).data)


class CodexRefreshView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="codex_refresh",
        summary="Queue a Codex sweep now (admin)",
        description="At most one sweep runs at a time; a request while one is queued or "
        "running is skipped (`{triggered: false, skipped: true}`).",
        request=None,
        responses={202: SweepRequestSerializer, **CONNECTION_ERRORS},
    )
    def post(self, request: Request) -> Response:
        try:
            result = request_sweep(SyncTrigger.MANUAL)
        except CodexDisabled as exc:
            raise Misconfigured(overlay.DISABLED_MESSAGE) from exc
        return Response(SweepRequestSerializer(result).data, status=status.HTTP_202_ACCEPTED)


class CodexTestView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="codex_test",
        summary="Test the Codex connection and API key now (admin)",
        description="Calls Codex's public `/info`, then one row of the external index with "
        "the key. The result is recorded as a health check.",
        request=None,
        responses={200: ConnectionCheckSerializer, **CONNECTION_ERRORS},
    )
    def post(self, request: Request) -> Response:
        _require_enabled()
        return Response(ConnectionCheckSerializer(check_result(check_connection())).data)


class SeriesCodexLinkView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="series_codex_link",
        summary="Link a series to a Codex series by hand (admin)",
        description="Replaces any link the series had with a manual one, which sweeps never "
        "overwrite or remove. Counts come from the last sweep that saw the Codex series, "
        "else from the next sweep.",
        request=CodexLinkRequestSerializer,
        responses={200: CodexLinkSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, **ADMIN_ERRORS},
    )
    def post(self, request: Request, series_id: int) -> Response:
        series = _series_or_404(series_id)
        body = validated(CodexLinkRequestSerializer, request.data)
        link = linking.link_series(series, body["codexSeriesUuid"])
        return Response(CodexLinkSerializer(link).data)

    @extend_schema(
        operation_id="series_codex_unlink",
        summary="Remove a series' Codex link (admin)",
        description="Idempotent. An automatic link returns with the next sweep while Codex "
        "and tsundoku share an external id.",
        request=None,
        responses={204: None, 404: NOT_FOUND, **ADMIN_ERRORS},
    )
    def delete(self, request: Request, series_id: int) -> Response:
        linking.unlink_series(_series_or_404(series_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeriesIgnoreCompletionView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="series_ignore_completion",
        summary="Mute or unmute Codex completion tracking for a series (admin)",
        request=IgnoreCompletionRequestSerializer,
        responses={
            200: IgnoreCompletionSerializer,
            400: BAD_REQUEST,
            404: NOT_FOUND,
            **ADMIN_ERRORS,
        },
    )
    def put(self, request: Request, series_id: int) -> Response:
        series = _series_or_404(series_id)
        body = validated(IgnoreCompletionRequestSerializer, request.data)
        return Response(
            IgnoreCompletionSerializer(linking.set_ignore_completion(series, body["ignore"])).data
        )
