"""Layered configuration: defaults → TOML → .env → environment, validated with key names."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tsundoku.config import SCHEMA, ConfigError, env_name, load_config, secret_values

REPO = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_apply_without_any_file(tmp_path):
    config = load_config({}, base_dir=tmp_path)
    assert config.codex["enabled"] is False
    assert config.codex["page_size"] == 500
    assert config.codex["timeout_seconds"] == 30
    assert config.codex["sync_cron"] is None
    assert config.auth["admin_token"] is None
    assert config.sources == ()


def test_toml_overrides_defaults_and_environment_overrides_toml(tmp_path):
    toml = write(tmp_path / "t.toml", "[codex]\npage_size = 200\ntimeout_seconds = 12\n")
    config = load_config(
        {"TSUNDOKU_CONFIG": str(toml), "TSUNDOKU_CODEX__PAGE_SIZE": "100"}, base_dir=tmp_path
    )
    assert config.codex["page_size"] == 100
    assert config.codex["timeout_seconds"] == 12


def test_tsundoku_toml_in_the_working_directory_is_read_when_no_path_is_given(tmp_path):
    write(tmp_path / "tsundoku.toml", '[logging]\nlevel = "debug"\n')
    assert load_config({}, base_dir=tmp_path).logging["level"] == "DEBUG"


def test_dotenv_values_apply_but_the_process_environment_wins(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("TSUNDOKU_")]:
        monkeypatch.delenv(name)
    write(
        tmp_path / ".env",
        "TSUNDOKU_CODEX__PAGE_SIZE=250\nTSUNDOKU_INGESTION__MAX_RETRIES=7\n",
    )
    monkeypatch.setenv("TSUNDOKU_ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setenv("TSUNDOKU_INGESTION__MAX_RETRIES", "1")
    config = load_config(base_dir=tmp_path)
    assert config.codex["page_size"] == 250
    assert config.ingestion["max_retries"] == 1


def test_base_url_is_normalised_without_trailing_slash(tmp_path):
    config = load_config(
        {
            "TSUNDOKU_CODEX__ENABLED": "true",
            "TSUNDOKU_CODEX__BASE_URL": "https://codex.example.com/ ",
            "TSUNDOKU_CODEX__API_KEY": "k",
        },
        base_dir=tmp_path,
    )
    assert config.codex["base_url"] == "https://codex.example.com"


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"TSUNDOKU_CODEX__PAGE_SIZE": "lots"}, "TSUNDOKU_CODEX__PAGE_SIZE"),
        ({"TSUNDOKU_CODEX__PAGE_SIZE": "900"}, "codex.page_size"),
        ({"TSUNDOKU_CODEX__ENABLED": "maybe"}, "TSUNDOKU_CODEX__ENABLED"),
        ({"TSUNDOKU_CODEX__TIMEOUT_SECONDS": "-1"}, "codex.timeout_seconds"),
        ({"TSUNDOKU_CODEX__SYNC_CRON": "every hour"}, "codex.sync_cron"),
        ({"TSUNDOKU_INGESTION__RESOLVE_THRESHOLD": "1.5"}, "ingestion.resolve_threshold"),
        ({"TSUNDOKU_LOGGING__LEVEL": "loud"}, "logging.level"),
        ({"TSUNDOKU_EXPORTS__RETENTION_DAYS": "0"}, "exports.retention_days"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_key(tmp_path, environment, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(environment, base_dir=tmp_path)


@pytest.mark.parametrize("missing", ["base_url", "api_key"])
def test_codex_enabled_without_url_or_key_is_refused_naming_the_key(tmp_path, missing):
    environment = {
        "TSUNDOKU_CODEX__ENABLED": "true",
        "TSUNDOKU_CODEX__BASE_URL": "https://codex.example.com",
        "TSUNDOKU_CODEX__API_KEY": "secret",
    }
    environment[f"TSUNDOKU_CODEX__{missing.upper()}"] = "  "
    with pytest.raises(ConfigError, match=f"codex.{missing} is required"):
        load_config(environment, base_dir=tmp_path)


def test_unknown_keys_and_sections_in_the_toml_file_are_refused(tmp_path):
    toml = write(tmp_path / "t.toml", "[codex]\napi_token = 'x'\n")
    with pytest.raises(ConfigError, match="codex: unknown key"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)
    toml = write(tmp_path / "t.toml", "[kodex]\nenabled = true\n")
    with pytest.raises(ConfigError, match="unknown config section"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


def test_invalid_toml_is_refused_naming_the_file(tmp_path):
    toml = write(tmp_path / "broken.toml", "[codex\n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


def test_sources_are_read_and_validated(tmp_path):
    toml = write(
        tmp_path / "t.toml",
        '[[sources]]\nname = "lit"\nfeed_url = "https://nyaa.si/?page=rss"\ncron = "*/30 * * * *"\n'
        '[[sources]]\nname = "off"\nfeed_url = "https://nyaa.si/?page=rss&q=x"\nenabled = false\n',
    )
    config = load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)
    assert [(s.name, s.kind, s.cron, s.enabled) for s in config.sources] == [
        ("lit", "nyaa", "*/30 * * * *", True),
        ("off", "nyaa", None, False),
    ]
    write(tmp_path / "t.toml", '[[sources]]\nname = "x"\nfeed_url = "ftp://nope"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.feed_url"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


def test_sources_read_detail_pages_and_politeness_settings_are_bounded(tmp_path):
    toml = write(
        tmp_path / "t.toml",
        "[ingestion]\nmin_request_gap_ms = 2500\nmax_connections_per_host = 1\n"
        '[[sources]]\nname = "lit"\nfeed_url = "https://nyaa.si/?page=rss&c=3_1"\n'
        "detail_pages = false\n",
    )
    config = load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)
    assert config.sources[0].detail_pages is False
    assert config.sources[0].listing_url == "https://nyaa.si/?c=3_1"
    assert (
        config.ingestion["min_request_gap_ms"],
        config.ingestion["max_connections_per_host"],
    ) == (
        2500,
        1,
    )
    for bad, key in [
        ("max_connections_per_host = 0", "ingestion.max_connections_per_host"),
        ("min_request_gap_ms = -1", "ingestion.min_request_gap_ms"),
        ("detail_max_attempts = 0", "ingestion.detail_max_attempts"),
    ]:
        write(tmp_path / "t.toml", f"[ingestion]\n{bad}\n")
        with pytest.raises(ConfigError, match=key):
            load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)
    write(
        tmp_path / "t.toml",
        '[[sources]]\nname = "x"\nfeed_url = "https://nyaa.si/"\ndetail_pages = "maybe"\n',
    )
    with pytest.raises(ConfigError, match=r"sources\[0\]\.detail_pages"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


def test_every_key_is_documented_in_env_example_and_example_toml():
    env_example = (REPO / ".env.example").read_text()
    example = tomllib.loads((REPO / "tsundoku.example.toml").read_text())
    example_text = (REPO / "tsundoku.example.toml").read_text()
    for section, settings in SCHEMA.items():
        table = example
        for part in section.split("."):
            table = table.get(part, {})
        for key in settings:
            assert f"{env_name(section, key)}=" in env_example, (section, key)
            assert key in table or f"# {key} =" in example_text, (section, key)
    load_config({"TSUNDOKU_CONFIG": str(REPO / "tsundoku.example.toml")}, base_dir=REPO)


def _manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNDOKU_")}
    env.pop("DATABASE_URL", None)
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_entry_point_refuses_to_start_when_codex_is_enabled_without_a_key(tmp_path):
    environment = {
        "TSUNDOKU_ENV_FILE": os.devnull,
        "TSUNDOKU_CONFIG": str(REPO / "tests" / "tsundoku.test.toml"),
        "TSUNDOKU_STORAGE__DATA_DIR": str(tmp_path),
        "TSUNDOKU_CODEX__API_KEY": "",
    }
    for command in (["check"], ["qcluster"], ["runserver", "--noreload", "127.0.0.1:0"]):
        result = _manage(*command, **environment)
        assert result.returncode != 0, command
        assert "codex.api_key is required" in result.stderr, command
        assert "Traceback" not in result.stderr, command


def test_providers_mangabaka_defaults_and_nested_environment_variables(tmp_path):
    config = load_config({}, base_dir=tmp_path)
    mangabaka = config.providers["mangabaka"]
    assert mangabaka["enabled"] is True
    assert mangabaka["api_base_url"] == "https://api.mangabaka.org"
    assert mangabaka["dump_url"] == "https://api.mangabaka.org/v1/database/series.sqlite.tar.gz"
    assert mangabaka["refresh_cron"] == "30 3 * * *"
    assert (mangabaka["api_fallback"], mangabaka["api_key"]) == (False, None)
    assert mangabaka["negative_cache_ttl_days"] == 7

    toml = write(tmp_path / "t.toml", '[providers.mangabaka]\napi_base_url = "https://x.test/"\n')
    config = load_config(
        {
            "TSUNDOKU_CONFIG": str(toml),
            "TSUNDOKU_PROVIDERS__MANGABAKA__API_KEY": " mb-secret ",
            "TSUNDOKU_PROVIDERS__MANGABAKA__REFRESH_CRON": "",
        },
        base_dir=tmp_path,
    )
    assert config.section("providers.mangabaka")["api_base_url"] == "https://x.test"
    assert config.providers["mangabaka"]["api_key"] == "mb-secret"
    assert config.providers["mangabaka"]["refresh_cron"] is None
    from tsundoku.config import secret_values

    assert "mb-secret" in secret_values(config)


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__ENABLED": "sure"},
            "TSUNDOKU_PROVIDERS__MANGABAKA__ENABLED",
        ),
        ({"TSUNDOKU_PROVIDERS__MANGABAKA__DUMP_URL": "ftp://x"}, "providers.mangabaka.dump_url"),
        ({"TSUNDOKU_PROVIDERS__MANGABAKA__API_BASE_URL": "x"}, "providers.mangabaka.api_base_url"),
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__REFRESH_CRON": "nightly"},
            "providers.mangabaka.refresh_cron",
        ),
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__TIMEOUT_SECONDS": "0"},
            "providers.mangabaka.timeout_seconds",
        ),
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__NEGATIVE_CACHE_TTL_DAYS": "-1"},
            "providers.mangabaka.negative_cache_ttl_days",
        ),
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__MIN_REQUEST_GAP_MS": "-5"},
            "providers.mangabaka.min_request_gap_ms",
        ),
        (
            {"TSUNDOKU_PROVIDERS__MANGABAKA__MIN_DUMP_ROWS": "0"},
            "providers.mangabaka.min_dump_rows",
        ),
    ],
)
def test_a_malformed_mangabaka_value_is_refused_naming_the_key(tmp_path, environment, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(environment, base_dir=tmp_path)


def test_unknown_provider_tables_and_keys_are_refused(tmp_path):
    toml = write(tmp_path / "t.toml", "[providers.anilist]\nenabled = true\n")
    with pytest.raises(ConfigError, match=r"unknown config section.*providers\.anilist"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)
    toml = write(tmp_path / "t.toml", "[providers.mangabaka]\napi_token = 'x'\n")
    with pytest.raises(ConfigError, match=r"providers\.mangabaka: unknown key"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"TSUNDOKU_TORRENTS__CLIENT": "deluge"}, "torrents.client"),
        ({"TSUNDOKU_TORRENTS__CLIENT": "qbittorrent"}, "torrents.url"),
        (
            {"TSUNDOKU_TORRENTS__CLIENT": "transmission", "TSUNDOKU_TORRENTS__URL": "host:9091"},
            "torrents.url",
        ),
        ({"TSUNDOKU_TORRENTS__TIMEOUT_SECONDS": "0"}, "torrents.timeout_seconds"),
        ({"TSUNDOKU_NOTIFICATIONS__RETRY_BASE_SECONDS": "0"}, "notifications.retry_base_seconds"),
        (
            {
                "TSUNDOKU_NOTIFICATIONS__RETRY_BASE_SECONDS": "600",
                "TSUNDOKU_NOTIFICATIONS__RETRY_MAX_SECONDS": "60",
            },
            "notifications.retry_max_seconds",
        ),
        ({"TSUNDOKU_NOTIFICATIONS__DIGEST_CRON": "hourly"}, "notifications.digest_cron"),
        ({"TSUNDOKU_NOTIFICATIONS__SOURCE_FAILURES": "0"}, "notifications.source_failures"),
    ],
)
def test_a_malformed_torrent_or_notification_value_is_refused_naming_the_key(
    tmp_path, environment, named
):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(environment, base_dir=tmp_path)


def test_torrent_password_and_each_notification_url_are_secrets(tmp_path):
    toml = write(
        tmp_path / "t.toml",
        '[torrents]\nclient = "QBitTorrent"\nurl = "http://127.0.0.1:8080/"\npassword = "qb-pw"\n'
        '[notifications]\nurls = ["ntfy://ntfy.example/topic-1", " ", "json://127.0.0.1/h"]\n',
    )

    config = load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)

    assert (config.torrents["client"], config.torrents["url"]) == (
        "qbittorrent",
        "http://127.0.0.1:8080",
    )
    assert config.notifications["urls"] == ["ntfy://ntfy.example/topic-1", "json://127.0.0.1/h"]
    secrets = secret_values(config)
    assert {"qb-pw", "ntfy://ntfy.example/topic-1", "json://127.0.0.1/h"} <= set(secrets)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_numbers_are_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="TSUNDOKU_CODEX__TIMEOUT_SECONDS: expected a finite"):
        load_config({"TSUNDOKU_CODEX__TIMEOUT_SECONDS": value}, base_dir=tmp_path)


def test_non_finite_numbers_in_the_toml_file_are_refused(tmp_path):
    toml = write(tmp_path / "t.toml", "[ingestion]\ntimeout_seconds = nan\n")
    with pytest.raises(ConfigError, match=r"ingestion\.timeout_seconds: expected a finite"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


@pytest.mark.parametrize("key", ["ADMIN_TOKEN", "API_KEY"])
def test_a_short_token_is_refused(tmp_path, key):
    with pytest.raises(ConfigError, match=f"TSUNDOKU_AUTH__{key}.*at least 16"):
        load_config({f"TSUNDOKU_AUTH__{key}": "x"}, base_dir=tmp_path)
    config = load_config({f"TSUNDOKU_AUTH__{key}": "s" * 16}, base_dir=tmp_path)
    assert config.auth[key.lower()] == "s" * 16


def test_a_misspelt_variable_is_warned_about_with_a_guess(tmp_path, caplog):
    load_config({"TSUNDOKU_CODEX__TIMEOUT_SECOND": "5", "TSUNDOKU_CONFIG": ""}, base_dir=tmp_path)

    assert (
        "ignoring unknown environment variable TSUNDOKU_CODEX__TIMEOUT_SECOND; "
        "did you mean TSUNDOKU_CODEX__TIMEOUT_SECONDS?"
    ) in caplog.text
    assert "TSUNDOKU_CONFIG" not in caplog.text


def test_an_unknown_variable_with_no_near_setting_is_warned_about_plainly(tmp_path, caplog):
    load_config({"TSUNDOKU_ZZZZ": "1"}, base_dir=tmp_path)

    assert "ignoring unknown environment variable TSUNDOKU_ZZZZ" in caplog.text
    assert "did you mean" not in caplog.text


def test_https_settings_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="trusted_proxy_header"):
        load_config({"TSUNDOKU_SERVER__TRUSTED_PROXY_HEADER": "X Forwarded"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="hsts_seconds"):
        load_config({"TSUNDOKU_SERVER__HSTS_SECONDS": "-1"}, base_dir=tmp_path)


def test_a_garbage_database_url_is_one_readable_line(tmp_path):
    result = _manage(
        "check",
        TSUNDOKU_ENV_FILE=os.devnull,
        TSUNDOKU_STORAGE__DATA_DIR=str(tmp_path),
        DATABASE_URL="garbage",
    )

    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_non_setting_variable_the_repository_uses_is_known():
    """A TSUNDOKU_* name used by CI, make or the suite must not be warned about as a typo."""
    import re

    from tsundoku.config import NON_SETTING_VARIABLES

    used = set()
    for pattern in ("*.py", "Makefile", "run", "*.md", "*.toml", "*.service"):
        for path in REPO.rglob(pattern):
            if ".venv" in path.parts or path.name == "test_config.py":
                continue
            used |= set(re.findall(r"\bTSUNDOKU_[A-Z_]*[A-Z]\b", path.read_text(errors="ignore")))
    plain = {name for name in used if "__" not in name}

    assert plain <= NON_SETTING_VARIABLES, plain - NON_SETTING_VARIABLES
