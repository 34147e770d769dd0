"""The exports API under /api/v1/exports.

Exports belong to their owner (`exports.jobs.Owner`): a logged-in user, or
the admin token for API clients. Anonymous readers cannot export, even when
reads are open: jobs keep files on the server's disk, and an owner is what
the per-user limit, listing and cleanup hang on. Someone else's export
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from exports import jobs
from exports.api.serializers import (
    ExportCreateSerializer,
    ExportJobSerializer,
    ExportListQuerySerializer,
    ExportPageSerializer,
    FieldCatalogSerializer,
)
from exports.fields import UnknownFields, catalog
from exports.models import ExportJob, ExportStatus
from exports.pipeline import InvalidExport
from feed.pagination import paginate
from tsundoku.api.errors import BadRequest, Conflict
from tsundoku.api.serializers import ErrorSerializer
from tsundoku.api.validation import validated


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


NEEDS_OWNER = _error("Exports need a login or the admin token.")
NOT_FOUND = _error("No such export among yours.")


class CanExport(permissions.BasePermission):
    """A logged-in user or the admin token; 401 for everyone else."""

    def has_permission(self, request, view) -> bool:
        if jobs.Owner.of(request) is None:
            raise exceptions.NotAuthenticated(
                "Exports need a login (or the admin token for API clients)."
            )
        return True


def _owner(request: Request) -> jobs.Owner:
    owner = jobs.Owner.of(request)
    assert owner is not None, "CanExport lets only owners through"
    return owner


def _own_job(request: Request, export_id: int) -> ExportJob:
    job = _owner(request).jobs().filter(pk=export_id).first()
    if job is None:
        raise exceptions.NotFound(f"No export with id {export_id}.")
    return job


class ExportListView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        operation_id="exports_list",
        summary="Your exports, newest first",
        parameters=[ExportListQuerySerializer],
        responses={
            200: ExportPageSerializer,
            400: _error("Invalid page or pageSize."),
            401: NEEDS_OWNER,
        },
    )
    def get(self, request: Request) -> Response:
        query = validated(ExportListQuerySerializer, request.query_params)
        page = paginate(
            _owner(request).jobs().order_by("-created_at", "-id"), query["page"], query["pageSize"]
        )
        return Response(
            {
                "items": ExportJobSerializer(page.items, many=True).data,
                "page": page.page,
                "pageSize": page.page_size,
                "total": page.total,
            }
        )

    @extend_schema(
        operation_id="exports_create",
        summary="Start an export",
        description="Queues a background job and answers at once with it (status "
        "`pending`); poll GET /exports/{id} until `completed`, then download. "
        "`both` + `csv` is refused: CSV holds one table.",
        request=ExportCreateSerializer,
        responses={
            201: ExportJobSerializer,
            400: _error("Invalid type, format, fields, preset or filters."),
            401: NEEDS_OWNER,
            409: _error("Too many of your exports are pending or running."),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(ExportCreateSerializer, request.data)
        try:
            job = jobs.create_export(
                _owner(request),
                export_type=data["type"],
                export_format=data["format"],
                field_keys=data.get("fields"),
                filters=data["filters"],
                preset=data.get("preset"),
            )
        except (InvalidExport, UnknownFields) as exc:
            raise BadRequest(str(exc)) from exc
        except jobs.TooManyExports as exc:
            raise Conflict(str(exc)) from exc
        return Response(ExportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ExportFieldsView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        operation_id="exports_fields",
        summary="The fields you can export, grouped, and the presets",
        description="Ownership fields (admin only) are absent for everyone else.",
        responses={200: FieldCatalogSerializer, 401: NEEDS_OWNER},
    )
    def get(self, request: Request) -> Response:
        return Response(catalog(is_admin=_owner(request).is_admin))


class ExportDetailView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        operation_id="exports_retrieve",
        summary="One of your exports",
        responses={200: ExportJobSerializer, 401: NEEDS_OWNER, 404: NOT_FOUND},
    )
    def get(self, request: Request, export_id: int) -> Response:
        return Response(ExportJobSerializer(_own_job(request, export_id)).data)

    @extend_schema(
        operation_id="exports_destroy",
        summary="Delete an export (cancelling it if it is still running)",
        responses={204: None, 401: NEEDS_OWNER, 404: NOT_FOUND},
    )
    def delete(self, request: Request, export_id: int) -> Response:
        jobs.delete_export(_own_job(request, export_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportCancelView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        operation_id="exports_cancel",
        summary="Cancel a pending or running export (the job is kept, marked cancelled)",
        request=None,
        responses={
            200: ExportJobSerializer,
            401: NEEDS_OWNER,
            404: NOT_FOUND,
            409: _error("The export has already finished."),
        },
    )
    def post(self, request: Request, export_id: int) -> Response:
        try:
            job = jobs.cancel_export(_own_job(request, export_id))
        except jobs.NotCancellable as exc:
            raise Conflict(str(exc)) from exc
        return Response(ExportJobSerializer(job).data)


class ExportDownloadView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        operation_id="exports_download",
        summary="Download a completed export",
        description="The file as an attachment named "
        "`tsundoku-<type>-<YYYYMMDD-HHMMSS>.<ext>`, streamed.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file."),
            401: NEEDS_OWNER,
            404: NOT_FOUND,
            409: _error("Not finished yet, failed, cancelled or expired."),
        },
    )
    def get(self, request: Request, export_id: int) -> FileResponse:
        job = _own_job(request, export_id)
        if job.is_expired():
            raise Conflict("This export has expired; start a new one.")
        if job.status != ExportStatus.COMPLETED:
            raise Conflict(f"This export is {job.get_status_display().lower()}, not completed.")
        try:
            handle = jobs.file_path(job).open("rb")
        except FileNotFoundError as exc:
            raise exceptions.NotFound("The export's file is gone from the server.") from exc
        return FileResponse(
            handle, as_attachment=True, filename=job.download_name, content_type=job.content_type
        )
