"""Secrets never reach a log line, a page or a payload: one redaction rule for all."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable

from django.conf import settings

from tsundoku.config import secret_values


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` as `***` (empty secrets are skipped)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def redact(text: str) -> str:
    """`text` with every configured secret (Codex key, admin token, read key) as `***`.

    Messages are built key-free at the source; this is the last line before a
    log, page or payload, for text we did not write ourselves (an upstream's
    error body, an exception from a library).
    """
    return redact_values(text, secret_values(settings.TSUNDOKU))


class RedactSecretsFilter(logging.Filter):
    """Redact secrets from a record's message and its traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a cached exc_text instead of formatting exc_info again.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return True
