"""Logging helpers."""

from __future__ import annotations

import logging

from django.conf import settings

from tsundoku.config import secret_values


class RedactSecretsFilter(logging.Filter):
    """Replace any configured secret that reaches a log line with `***`.

    Code never logs secrets on purpose; this is the safety net for an
    upstream library that echoes a header or URL back in an exception.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in secret_values(settings.TSUNDOKU):
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
