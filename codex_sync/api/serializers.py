"""Serializers of the Codex admin API: camelCase on the wire, times as epoch seconds.

Nothing here can carry the Codex API key: no model holds it, and the texts
that come from elsewhere (errors, check messages) are redacted before they
reach a serializer (`tsundoku.logging.redact`, in `codex_sync.overview`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codex_sync import linking
from codex_sync.models import AuthState, LinkKind, SyncOutcome, SyncTrigger
from codex_sync.overview import version_supported
from tsundoku.api.serializers import EpochSecondsField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """A JSON boolean and nothing else: `"true"`, `1` or `null` are rejected."""

    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value: bool) -> bool:
        return bool(value)


class CodexLinkRequestSerializer(serializers.Serializer):
    codexSeriesUuid = serializers.CharField(
        allow_blank=True,
        help_text="The Codex series UUID, or its URL in Codex's web UI (…/series/<uuid>).",
    )

    def validate_codexSeriesUuid(self, value: str):
        try:
            return linking.parse_codex_series_reference(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class CodexLinkSerializer(serializers.Serializer):
    seriesId = serializers.IntegerField(source="series_id")
    codexSeriesUuid = serializers.UUIDField(source="codex_series_uuid")
    linkKind = serializers.ChoiceField(source="link_kind", choices=LinkKind.choices)


class IgnoreCompletionRequestSerializer(serializers.Serializer):
    ignore = StrictBooleanField(help_text="true mutes completion tracking for the series.")


class IgnoreCompletionSerializer(serializers.Serializer):
    seriesId = serializers.IntegerField(source="pk")
    ignoreCompletion = serializers.BooleanField(source="ignore_completion")


class SweepRequestSerializer(serializers.Serializer):
    triggered = serializers.BooleanField(help_text="A sweep was queued.")
    skipped = serializers.BooleanField(help_text="A sweep was already queued or running.")


class ConnectionCheckSerializer(serializers.Serializer):
    reachable = serializers.BooleanField()
    authState = serializers.ChoiceField(source="auth_state", choices=AuthState.choices)
    authStateLabel = serializers.SerializerMethodField()
    codexName = serializers.CharField(source="codex_name")
    codexVersion = serializers.CharField(source="codex_version")
    versionSupported = serializers.SerializerMethodField(
        help_text="False below Codex 1.32.0 (a warning only); null when the version is unknown."
    )
    message = serializers.CharField()

    def get_authStateLabel(self, check) -> str:
        return AuthState(check.auth_state).label

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_versionSupported(self, check) -> bool | None:
        return version_supported(check.codex_version)


class SyncRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    trigger = serializers.ChoiceField(choices=SyncTrigger.choices)
    outcome = serializers.ChoiceField(choices=SyncOutcome.choices)
    startedAt = EpochSecondsField(source="started_at")
    finishedAt = EpochSecondsField(source="finished_at", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)
    pages = serializers.IntegerField()
    fetched = serializers.IntegerField()
    linked = serializers.IntegerField()
    newLinks = serializers.IntegerField(source="new_links")
    removedLinks = serializers.IntegerField(source="removed_links")
    conflicts = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    error = serializers.CharField()


class HealthCheckSerializer(serializers.Serializer):
    checkedAt = EpochSecondsField(source="checked_at")
    reachable = serializers.BooleanField()
    codexName = serializers.CharField(source="codex_name")
    codexVersion = serializers.CharField(source="codex_version")
    authState = serializers.CharField(
        source="auth_state", help_text="Empty when the check did not reach the key test."
    )
    error = serializers.CharField()


class SweepProgressSerializer(serializers.Serializer):
    pages = serializers.IntegerField(source="progress_pages", help_text="Pages fetched so far.")
    totalPages = serializers.IntegerField(
        source="progress_total_pages", help_text="0 until the first page arrived."
    )


class CodexStatusSerializer(serializers.Serializer):
    """The Codex connection as the admin's connection card shows it."""

    enabled = serializers.BooleanField()
    baseUrl = serializers.CharField(
        source="base_url", help_text="Codex's address, without any credentials."
    )
    reachable = serializers.BooleanField(allow_null=True, help_text="null: never checked.")
    codexName = serializers.CharField(source="codex_name")
    codexVersion = serializers.CharField(source="codex_version")
    versionSupported = serializers.BooleanField(
        source="version_supported",
        allow_null=True,
        help_text="False below Codex 1.32.0 (a warning only); null when the version is unknown.",
    )
    authState = serializers.ChoiceField(source="auth_state", choices=AuthState.choices)
    authStateLabel = serializers.CharField(source="auth_state_label")
    lastPreflightAt = EpochSecondsField(source="last_preflight_at", allow_null=True)
    lastSuccessAt = EpochSecondsField(source="last_success_at", allow_null=True)
    lastError = serializers.CharField(source="last_error")
    lastErrorAt = EpochSecondsField(source="last_error_at", allow_null=True)
    linkedCount = serializers.IntegerField(source="linked_count")
    fetchedCount = serializers.IntegerField(
        source="fetched_count", help_text="Codex series read by the last successful sweep."
    )
    sweepRunning = serializers.BooleanField(source="sweep_running")
    progress = SweepProgressSerializer(source="*")
    conflicts = serializers.IntegerField(help_text="Matching conflicts of the last sweep.")
    unmatched = serializers.IntegerField(help_text="Codex series that matched no series.")
    recentSweeps = SyncRunSerializer(source="recent_sweeps", many=True)
    recentChecks = HealthCheckSerializer(source="recent_checks", many=True)
