"""OpenAPI documentation: tsundoku's own authentication, and the schema a reader may see."""

from __future__ import annotations

import copy
import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView

from tsundoku.access import is_admin


class AdminTokenScheme(OpenApiAuthenticationExtension):
    """Documents `tsundoku.access.AdminTokenAuthentication` as the `adminToken` bearer scheme.

    drf-spectacular registers extensions when their module is imported;
    `tsundoku.apps` imports this one at start-up, before any schema is generated.
    """

    target_class = "tsundoku.access.AdminTokenAuthentication"
    name = "adminToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer"}


# --- the schema as a reader sees it ------------------------------------------------

_ADMIN_ONLY_NAMES = ("codex", "owned")


def _mentions_codex(text: str) -> bool:
    return "codex" in text.lower()


def _without_codex_sentences(text: str) -> str:
    """The text minus each sentence (or line) that names Codex."""
    kept = []
    for line in text.splitlines():
        sentences = re.split(r"(?<=[.!?])\s+", line)
        kept.append(" ".join(part for part in sentences if not _mentions_codex(part)))
    return "\n".join(kept).strip()


def _admin_only(name: str) -> bool:
    lowered = name.lower()
    return any(lowered.startswith(prefix) for prefix in _ADMIN_ONLY_NAMES)


def _scrub(node: Any) -> Any:
    """Drop admin-only properties, parameters and enum values; trim texts naming Codex."""
    if isinstance(node, dict):
        cleaned: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and _mentions_codex(value):
                return None
            if key == "properties" and isinstance(value, dict):
                value = {name: prop for name, prop in value.items() if not _admin_only(name)}
            elif key == "required" and isinstance(value, list):
                value = [name for name in value if not _admin_only(str(name))]
            elif key == "parameters" and isinstance(value, list):
                value = [p for p in value if not _admin_only(str(p.get("name", "")))]
            elif key == "enum" and isinstance(value, list):
                value = [v for v in value if not (isinstance(v, str) and _mentions_codex(v))]
            elif key in {"description", "summary", "title"} and isinstance(value, str):
                value = _without_codex_sentences(value)
            scrubbed = _scrub(value)
            if scrubbed is not None:
                cleaned[key] = scrubbed
        return cleaned
    if isinstance(node, list):
        return [item for item in (_scrub(entry) for entry in node) if item is not None]
    if isinstance(node, str) and _mentions_codex(node):
        return _without_codex_sentences(node)
    return node


def reader_schema(schema: dict) -> dict:
    """The OpenAPI schema with everything about Codex removed, for anyone but the admin.

    Readers must not learn the admin runs Codex: its endpoints, the admin-only
    `codex`/`owned` keys, the Codex filters and every sentence naming it go.
    """
    schema = copy.deepcopy(schema)
    schema["paths"] = {
        path: item for path, item in schema.get("paths", {}).items() if not _mentions_codex(path)
    }
    components = schema.get("components", {}).get("schemas", {})
    for name in [name for name in components if _mentions_codex(name)]:
        del components[name]
    return _scrub(schema)


class TierSchemaView(SpectacularAPIView):
    """`/api/v1/schema`: the full schema for the admin, `reader_schema` for everyone else."""

    def _get_schema_response(self, request):
        response = super()._get_schema_response(request)
        if not is_admin(request._request):
            response.data = reader_schema(response.data)
        return response
