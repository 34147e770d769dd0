"""The console log filter redacts secrets from messages and from tracebacks."""

from __future__ import annotations

import io
import logging

import pytest
import responses

from tests.helpers import ADMIN_TOKEN, CODEX_KEY
from torrents.clients import ClientSettings, ClientUnreachable, Transmission
from tsundoku.logging import RedactSecretsFilter, redact, redact_values


def test_redact_replaces_every_configured_secret():
    assert redact(f"key={CODEX_KEY} token={ADMIN_TOKEN}") == "key=*** token=***"


def test_redact_values_hides_the_given_secrets_and_skips_empty_ones():
    assert redact_values("a-key and b-key", ["a-key", "", "b-key"]) == "*** and ***"
    assert redact_values("nothing secret", []) == "nothing secret"


def test_the_log_filter_redacts_messages_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("upstream said %s", f"bad key {CODEX_KEY}")
        try:
            raise RuntimeError(f"echoed header X-API-Key: {CODEX_KEY}")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "bad key ***" in output
    assert "X-API-Key: ***" in output
    assert "Traceback" in output
    assert CODEX_KEY not in output


def test_a_torrent_client_library_logging_its_url_never_leaks_the_password(tsundoku_config):
    """transmission-rpc logs its URL, credentials included, at debug level: redacted."""
    password = "torrent-password-in-a-debug-log-3c"
    tsundoku_config(torrents={"password": password})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    library_logger = logging.getLogger("transmission-rpc")
    library_logger.addHandler(handler)
    previous_level = library_logger.level
    library_logger.setLevel(logging.DEBUG)
    config = ClientSettings(
        client="transmission",
        url="http://tr.test:9091/transmission/rpc",
        username="tsundoku",
        password=password,
        category="",
        save_path="",
        timeout_seconds=5.0,
    )
    try:
        with responses.RequestsMock(), pytest.raises(ClientUnreachable):
            Transmission(config).version()
    finally:
        library_logger.removeHandler(handler)
        library_logger.setLevel(previous_level)
    output = stream.getvalue()
    assert "tr.test:9091" in output
    assert password not in output
