"""Cross-setting system checks warn about combinations that work but surprise."""

from __future__ import annotations

from tsundoku.checks import check_codex_schedule, check_codex_transport, check_read_key


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_read_gate_without_a_read_key_warns(tsundoku_config):
    tsundoku_config(auth={"read_requires_auth": True, "api_key": None})
    assert ids(check_read_key(None)) == ["tsundoku.W001"]
    tsundoku_config(auth={"read_requires_auth": True, "api_key": "k"})
    assert check_read_key(None) == []


def test_codex_without_a_schedule_is_reported(tsundoku_config):
    tsundoku_config(codex={"sync_cron": None})
    assert ids(check_codex_schedule(None)) == ["tsundoku.I001"]
    tsundoku_config(codex={"sync_cron": "0 * * * *"})
    assert check_codex_schedule(None) == []


def test_plain_http_to_a_remote_codex_warns_but_loopback_does_not(tsundoku_config):
    tsundoku_config(codex={"base_url": "http://codex.example.com"})
    assert ids(check_codex_transport(None)) == ["tsundoku.W002"]
    tsundoku_config(codex={"base_url": "http://127.0.0.1:8081"})
    assert check_codex_transport(None) == []
    tsundoku_config(codex={"base_url": "https://codex.example.com"})
    assert check_codex_transport(None) == []
