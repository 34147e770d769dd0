"""The API's JSON parser: DRF's, plus a clear 400 for nesting too deep to parse."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """A body nested deeper than Python's recursion limit is a bad request, not a 500.

    `json.loads` raises RecursionError (not ValueError) on such a body, which
    DRF's parser lets through.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
