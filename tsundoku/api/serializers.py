"""Serializers every API uses: the error envelope, epoch-second times, health and info."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def epoch_seconds(value: datetime | None) -> int | None:
    """A time as whole seconds since the Unix epoch, the API's one time format."""
    return int(value.timestamp()) if value is not None else None


@extend_schema_field(OpenApiTypes.INT)
class EpochSecondsField(serializers.Field):
    """A datetime as integer epoch seconds."""

    def to_representation(self, value: datetime) -> int | None:
        return epoch_seconds(value)


class ErrorSerializer(serializers.Serializer):
    """The error envelope every failing API call returns."""

    error = serializers.CharField(
        help_text="not_found, bad_request, unauthorized, forbidden, conflict, "
        "misconfigured or internal."
    )
    message = serializers.CharField()
    details = serializers.JSONField(required=False, help_text="Per-field validation errors.")


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok", or "unavailable" with HTTP 503.')
    database = serializers.CharField(help_text='"ok" or "error".')


class InfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
