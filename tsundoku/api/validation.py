"""Request input through a serializer, failing as the API's 400 envelope."""

from __future__ import annotations

from rest_framework import serializers


def validated(serializer_class: type[serializers.Serializer], data: object) -> dict:
    """Validate request input; a failure becomes a 400 envelope with per-field `details`."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
