"""Serializers of the exports API: camelCase on the wire, epoch-second times like the rest."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exports.fields import PRESET_LABELS
from exports.models import ExportFormat, ExportJob, ExportStatus, ExportType
from exports.pipeline import FILTER_KEYS
from tsundoku.api.serializers import EpochSecondsField


@extend_schema_field(
    {
        "type": "object",
        "properties": {key: {"type": "string"} for key in FILTER_KEYS},
        # An unknown key is a 400 naming the known ones, so the schema says so too.
        "additionalProperties": False,
    }
)
class ExportFiltersField(serializers.JSONField):
    """The feed's filters as an object: `{"kind": "manga", "codexStatus": "behind", …}`."""

    default_error_messages = {"not_object": "Expected an object of feed filters."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_object")
        return value


class ExportCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=ExportType.choices,
        help_text="series: one row per series; releases: one row per release, with its "
        "series; both: series with their releases (JSON and Markdown only).",
    )
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.JSON)
    fields = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_empty=True,
        help_text="Field keys from GET /exports/fields. Omitted: every field you may "
        "export. The title is always included.",
    )
    preset = serializers.ChoiceField(
        choices=list(PRESET_LABELS.items()),
        required=False,
        help_text="Instead of `fields`: all, llm (a compact set for a language model) or clear.",
    )
    filters = ExportFiltersField(
        required=False,
        default=dict,
        # Lenient, like the feed page the export dialog is opened from: an
        # unknown key is refused, an unknown value is dropped.
        help_text="The feed's filters: q, kind, status, hasReleases, scope, sort, order, and "
        "codexStatus (admin only; ignored for everyone else). An unknown key is a 400; a "
        "value the feed does not know is dropped (as on the feed page), not an error.",
    )


@extend_schema_field(serializers.CharField(allow_null=True))
class DownloadUrlField(serializers.Field):
    """Where to fetch the file; null until it is completed, and after it expires."""

    def to_representation(self, job: ExportJob) -> str | None:
        if not job.is_downloadable:
            return None
        return reverse("api-export-download", args=[job.pk])


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=ExportType.choices, source="export_type")
    format = serializers.ChoiceField(choices=ExportFormat.choices, source="export_format")
    # A plain string in the schema: an enum here would collide with the series'
    # `status` enum name (drf-spectacular names enums after the field).
    status = serializers.CharField(
        source="effective_status",
        help_text=f"One of {', '.join(ExportStatus.values)}: pending → running → completed | "
        "failed | cancelled; a completed file becomes expired after exports.retention_days.",
    )
    fields = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField(child=serializers.CharField())
    rowCount = serializers.IntegerField(source="row_count", allow_null=True)
    fileSize = serializers.IntegerField(source="file_size", allow_null=True, help_text="Bytes.")
    error = serializers.SerializerMethodField()
    createdAt = EpochSecondsField(source="created_at")
    startedAt = EpochSecondsField(source="started_at", allow_null=True)
    finishedAt = EpochSecondsField(source="finished_at", allow_null=True)
    expiresAt = EpochSecondsField(source="expires_at", allow_null=True)
    fileName = serializers.CharField(source="download_name")
    downloadUrl = DownloadUrlField(source="*")

    def get_error(self, job: ExportJob) -> str | None:
        return job.error or None


class ExportPageSerializer(serializers.Serializer):
    items = ExportJobSerializer(many=True)
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    total = serializers.IntegerField()


class ExportListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    pageSize = serializers.IntegerField(min_value=1, max_value=200, default=50)


class CatalogFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    anchor = serializers.BooleanField(help_text="Always included, whatever the selection.")


class CatalogGroupSerializer(serializers.Serializer):
    name = serializers.CharField()
    fields = CatalogFieldSerializer(many=True)


class CatalogEntitySerializer(serializers.Serializer):
    entity = serializers.ChoiceField(choices=["series", "releases"])
    label = serializers.CharField()
    anchor = serializers.CharField()
    groups = CatalogGroupSerializer(many=True)


class CatalogPresetSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(PRESET_LABELS))
    label = serializers.CharField()
    description = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())


class FieldCatalogSerializer(serializers.Serializer):
    """The fields you may export, grouped, and the presets. Ownership appears for admins only."""

    entities = CatalogEntitySerializer(many=True)
    presets = CatalogPresetSerializer(many=True)
