"""OpenAPI documentation for tsundoku's own authentication (drf-spectacular extensions)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AdminTokenScheme(OpenApiAuthenticationExtension):
    """Documents `tsundoku.access.AdminTokenAuthentication` as the `adminToken` bearer scheme.

    drf-spectacular registers extensions when their module is imported;
    `tsundoku.apps` imports this one at start-up, before any schema is generated.
    """

    target_class = "tsundoku.access.AdminTokenAuthentication"
    name = "adminToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer"}
