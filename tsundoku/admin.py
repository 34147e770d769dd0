"""Django admin building blocks every app's admin uses."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from tsundoku.logging import redact


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and detail view of rows that only the application writes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def redacted(field: str, description: str = "Error") -> Callable[[admin.ModelAdmin, Model], str]:
    """An admin column showing `field` with every configured secret redacted."""

    @admin.display(description=description)
    def display(model_admin: admin.ModelAdmin, obj: Model) -> str:
        return redact(getattr(obj, field))

    return display
