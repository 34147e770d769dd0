"""Layered configuration: defaults → TOML file → .env file → process environment.

Every value tsundoku reads from the operator passes through here and is
validated once, at start-up. A bad value raises `ConfigError` naming the key
(`codex.timeout_seconds`, or the environment variable that carried it) so
every entry point — manage.py commands, the web server, the worker — refuses
to start with the same clear message instead of failing later at each tick.

Environment variables are `TSUNDOKU_<SECTION>__<KEY>` (double underscore
nests), e.g. `TSUNDOKU_CODEX__API_KEY`; a nested table such as
`[providers.mangabaka]` nests once more: `TSUNDOKU_PROVIDERS__MANGABAKA__API_KEY`.
`[[sources]]` is a list of tables and comes from the TOML file only.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from croniter import croniter
from django.core.exceptions import ImproperlyConfigured

ENV_PREFIX = "TSUNDOKU_"
# Variables with the prefix that are not settings: the loader's own, and the test suite's.
NON_SETTING_VARIABLES = frozenset(
    {
        "TSUNDOKU_CONFIG",
        "TSUNDOKU_ENV_FILE",
        "TSUNDOKU_REQUIRE_BROWSER",
        "TSUNDOKU_REQUIRE_TORRENT_DAEMONS",
        "TSUNDOKU_TEST_DATABASE_URL",
        "TSUNDOKU_CI_PG_PORT",
    }
)
# A bearer token or API key shorter than this is guessable; `secrets.token_urlsafe(32)` is 43.
MIN_TOKEN_LENGTH = 16

logger = logging.getLogger(__name__)


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class Setting:
    """One scalar setting: its type and built-in default."""

    kind: type
    default: Any
    secret: bool = False


# The schema: section → key → Setting. Secrets have no default (None).
SCHEMA: dict[str, dict[str, Setting]] = {
    "server": {
        "debug": Setting(bool, False),
        "secret_key": Setting(str, None, secret=True),
        "allowed_hosts": Setting(list, ["127.0.0.1", "localhost"]),
        "csrf_trusted_origins": Setting(list, []),
        "time_zone": Setting(str, "UTC"),
        "public_url": Setting(str, ""),
        # HTTPS: unset (None) means "on when public_url is https://" (tsundoku.settings).
        "secure_cookies": Setting(bool, None),
        "hsts_seconds": Setting(int, None),
        # The header a TLS-terminating proxy sets, e.g. "X-Forwarded-Proto"; "" = no proxy.
        "trusted_proxy_header": Setting(str, ""),
        # Login attempts per minute per client address, then per account (brute force).
        "login_rate_per_minute": Setting(int, 10),
    },
    "storage": {
        "data_dir": Setting(str, "./data"),
    },
    "auth": {
        "admin_token": Setting(str, None, secret=True),
        "api_key": Setting(str, None, secret=True),
        "read_requires_auth": Setting(bool, False),
    },
    "codex": {
        "enabled": Setting(bool, False),
        "base_url": Setting(str, ""),
        "api_key": Setting(str, None, secret=True),
        "sync_cron": Setting(str, None),
        "timeout_seconds": Setting(float, 30.0),
        "page_size": Setting(int, 500),
    },
    "ingestion": {
        "resolve_threshold": Setting(float, 0.85),
        "review_threshold": Setting(float, 0.55),
        "timeout_seconds": Setting(float, 30.0),
        "max_retries": Setting(int, 3),
        # Politeness towards each source host (feed, detail, listing and search pages).
        "min_request_gap_ms": Setting(int, 1000),
        "max_connections_per_host": Setting(int, 2),
        # Detail pages read per poll, and attempts before a release is given up on.
        "detail_batch_size": Setting(int, 25),
        "detail_max_attempts": Setting(int, 5),
    },
    "exports": {
        "retention_days": Setting(int, 7),
        "max_concurrent_per_user": Setting(int, 3),
    },
    "logging": {
        "level": Setting(str, "INFO"),
    },
    "covers": {
        "enabled": Setting(bool, True),
        "max_cache_mb": Setting(int, 500),
        "max_image_mb": Setting(int, 5),
        "timeout_seconds": Setting(float, 15.0),
        "prefetch_cron": Setting(str, "23 * * * *"),
    },
    # One torrent client that "Send" hands releases to; client "" = no sending.
    "torrents": {
        "client": Setting(str, ""),
        "url": Setting(str, ""),
        "username": Setting(str, ""),
        "password": Setting(str, None, secret=True),
        "category": Setting(str, ""),
        "save_path": Setting(str, ""),
        "timeout_seconds": Setting(float, 15.0),
    },
    # Apprise URLs (Discord, Telegram, ntfy, Gotify, mailto, json://…): each is a secret.
    "notifications": {
        "urls": Setting(list, [], secret=True),
        "digest_cron": Setting(str, "*/15 * * * *"),
        "retry_base_seconds": Setting(int, 60),
        "retry_max_seconds": Setting(int, 6 * 3600),
        "source_failures": Setting(int, 3),
    },
    # A dotted section is a nested TOML table; `Config.providers["mangabaka"]` holds it.
    "providers.mangabaka": {
        "enabled": Setting(bool, True),
        "dump_url": Setting(str, "https://api.mangabaka.org/v1/database/series.sqlite.tar.gz"),
        # MangaBaka rebuilds the dump nightly at 00:00 UTC; fetch it well after.
        "refresh_cron": Setting(str, "30 3 * * *"),
        "min_dump_rows": Setting(int, 100_000),  # the real dump has ~585,000 series
        "api_fallback": Setting(bool, False),
        "api_base_url": Setting(str, "https://api.mangabaka.org"),
        "api_key": Setting(str, None, secret=True),
        "timeout_seconds": Setting(float, 30.0),
        "negative_cache_ttl_days": Setting(int, 7),
        "min_request_gap_ms": Setting(int, 250),
    },
}

SOURCE_KINDS = ("nyaa",)
TORRENT_CLIENTS = ("qbittorrent", "transmission", "rutorrent")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CODEX_MAX_PAGE_SIZE = 500  # Codex silently clamps larger pages to 500


def env_name(section: str, key: str) -> str:
    """The environment variable for one key: `providers.mangabaka` → `PROVIDERS__MANGABAKA`."""
    return f"{ENV_PREFIX}{section.upper().replace('.', '__')}__{key.upper()}"


@dataclass(frozen=True)
class SourceConfig:
    kind: str
    name: str
    feed_url: str
    cron: str | None
    enabled: bool
    # Read each new release's `/view/<id>` page (file list, Information link).
    detail_pages: bool = True

    @property
    def listing_url(self) -> str:
        """The HTML listing this feed is the RSS of: the same query without `page=rss`."""
        parts = urlsplit(self.feed_url)
        query = [(key, value) for key, value in parse_qsl(parts.query) if key != "page"]
        return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Config:
    """The validated configuration. Sections are plain dicts of typed values."""

    server: dict[str, Any]
    storage: dict[str, Any]
    auth: dict[str, Any]
    codex: dict[str, Any]
    ingestion: dict[str, Any]
    exports: dict[str, Any]
    logging: dict[str, Any]
    covers: dict[str, Any]
    torrents: dict[str, Any]
    notifications: dict[str, Any]
    # Nested tables by provider name: `providers["mangabaka"]["api_key"]`.
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: tuple[SourceConfig, ...] = field(default_factory=tuple)
    config_file: Path | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.storage["data_dir"]).resolve()

    def section(self, name: str) -> dict[str, Any]:
        """One section by its SCHEMA name, dotted for nested tables (`providers.mangabaka`)."""
        head, _, tail = name.partition(".")
        values = getattr(self, head)
        return values.get(tail, {}) if tail else values


def _coerce(value: Any, setting: Setting, key: str) -> Any:
    """Turn a TOML or environment value into the setting's type, or raise naming `key`."""
    if value is None:
        return None
    kind = setting.kind
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if kind is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return number
    if kind is list:
        if isinstance(value, list):
            return [str(item) for item in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if isinstance(value, dict | list):
        raise ConfigError(f"{key}: expected text, got a {type(value).__name__}")
    return str(value)


def _describe(section: str, key: str, origin: Mapping[str, str]) -> str:
    """Name a key the way the operator wrote it: TOML path, plus env var if that won."""
    dotted = f"{section}.{key}"
    env_name = origin.get(dotted)
    return f"{dotted} (from {env_name})" if env_name else dotted


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"TSUNDOKU_CONFIG: config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _validate_cron(expression: str | None, key: str) -> str | None:
    if expression is None or not expression.strip():
        return None
    expression = expression.strip()
    if not croniter.is_valid(expression):
        raise ConfigError(f"{key}: {expression!r} is not a valid cron expression")
    return expression


def _table(document: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The TOML table for a (possibly dotted) section, `{}` when absent."""
    table: Any = document
    for part in section.split("."):
        table = table.get(part, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}]: expected a table")
    return table


def _http_url(value: str, key: str) -> str:
    value = (value or "").strip()
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{key}: expected an http(s) URL, got {value!r}")
    return value


def _check_mangabaka(mangabaka: dict[str, Any], origin: Mapping[str, str]) -> None:
    """`[providers.mangabaka]`: URLs, cron, bounds; the API key stripped (blank → unset)."""

    def name(key: str) -> str:
        return _describe("providers.mangabaka", key, origin)

    mangabaka["dump_url"] = _http_url(mangabaka["dump_url"], name("dump_url"))
    mangabaka["api_base_url"] = _http_url(mangabaka["api_base_url"], name("api_base_url")).rstrip(
        "/"
    )
    mangabaka["refresh_cron"] = _validate_cron(mangabaka["refresh_cron"], name("refresh_cron"))
    key = mangabaka["api_key"]
    mangabaka["api_key"] = key.strip() if key and key.strip() else None
    if mangabaka["timeout_seconds"] <= 0:
        raise ConfigError(f"{name('timeout_seconds')}: must be positive")
    for key, minimum in (("negative_cache_ttl_days", 0), ("min_request_gap_ms", 0)):
        if mangabaka[key] < minimum:
            raise ConfigError(f"{name(key)}: must be {minimum} or more")
    if mangabaka["min_dump_rows"] < 1:
        raise ConfigError(f"{name('min_dump_rows')}: must be 1 or more")


def _read_sources(raw: Any) -> tuple[SourceConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("sources: expected a list of [[sources]] tables")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"sources[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        unknown = set(entry) - {"kind", "name", "feed_url", "cron", "enabled", "detail_pages"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        kind = str(entry.get("kind", "nyaa")).strip().lower()
        if kind not in SOURCE_KINDS:
            raise ConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        name = str(entry.get("name", "")).strip()
        if not name:
            raise ConfigError(f"{where}.name: required")
        if name in seen:
            raise ConfigError(f"{where}.name: {name!r} is used by another source")
        seen.add(name)
        feed_url = str(entry.get("feed_url", "")).strip()
        if not feed_url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.feed_url: expected an http(s) URL, got {feed_url!r}")
        sources.append(
            SourceConfig(
                kind=kind,
                name=name,
                feed_url=feed_url,
                cron=_validate_cron(entry.get("cron"), f"{where}.cron"),
                enabled=_coerce(
                    entry.get("enabled", True), Setting(bool, True), f"{where}.enabled"
                ),
                detail_pages=_coerce(
                    entry.get("detail_pages", True), Setting(bool, True), f"{where}.detail_pages"
                ),
            )
        )
    return tuple(sources)


def _check_sections(sections: dict[str, dict[str, Any]], origin: Mapping[str, str]) -> None:
    """Cross-field rules; each error names the key the operator must fix."""
    codex = sections["codex"]
    codex["base_url"] = (codex["base_url"] or "").strip().rstrip("/")
    if codex["enabled"]:
        for key in ("base_url", "api_key"):
            if not (codex[key] or "").strip():
                raise ConfigError(
                    f"codex.{key} is required when codex.enabled is true "
                    f"(set it in the TOML file or TSUNDOKU_CODEX__{key.upper()})"
                )
        if not codex["base_url"].startswith(("http://", "https://")):
            raise ConfigError(f"{_describe('codex', 'base_url', origin)}: expected an http(s) URL")
    if codex["timeout_seconds"] <= 0:
        raise ConfigError(f"{_describe('codex', 'timeout_seconds', origin)}: must be positive")
    if not 1 <= codex["page_size"] <= CODEX_MAX_PAGE_SIZE:
        raise ConfigError(
            f"{_describe('codex', 'page_size', origin)}: must be between 1 and "
            f"{CODEX_MAX_PAGE_SIZE} (Codex's maximum)"
        )
    codex["sync_cron"] = _validate_cron(codex["sync_cron"], _describe("codex", "sync_cron", origin))

    ingestion = sections["ingestion"]
    for key in ("resolve_threshold", "review_threshold"):
        if not 0 <= ingestion[key] <= 1:
            raise ConfigError(f"{_describe('ingestion', key, origin)}: must be between 0 and 1")
    if ingestion["review_threshold"] > ingestion["resolve_threshold"]:
        raise ConfigError(
            "ingestion.review_threshold: must not be above ingestion.resolve_threshold"
        )
    if ingestion["timeout_seconds"] <= 0:
        raise ConfigError(f"{_describe('ingestion', 'timeout_seconds', origin)}: must be positive")
    for key in ("max_retries", "min_request_gap_ms", "detail_batch_size"):
        if ingestion[key] < 0:
            raise ConfigError(f"{_describe('ingestion', key, origin)}: must be 0 or more")
    for key in ("max_connections_per_host", "detail_max_attempts"):
        if ingestion[key] < 1:
            raise ConfigError(f"{_describe('ingestion', key, origin)}: must be 1 or more")

    for key in ("retention_days", "max_concurrent_per_user"):
        if sections["exports"][key] < 1:
            raise ConfigError(f"{_describe('exports', key, origin)}: must be 1 or more")

    level = sections["logging"]["level"].upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"{_describe('logging', 'level', origin)}: {level!r} is not one of "
            f"{', '.join(LOG_LEVELS)}"
        )
    sections["logging"]["level"] = level

    _check_covers(sections["covers"], origin)

    auth = sections["auth"]
    for key in ("admin_token", "api_key"):
        value = auth[key]
        auth[key] = value.strip() if value and value.strip() else None
        if auth[key] is not None and len(auth[key]) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"{_describe('auth', key, origin)}: must be at least {MIN_TOKEN_LENGTH} "
                'characters (generate one: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))")'
            )

    server = sections["server"]
    if server["hsts_seconds"] is not None and server["hsts_seconds"] < 0:
        raise ConfigError(f"{_describe('server', 'hsts_seconds', origin)}: must be 0 or more")
    if server["login_rate_per_minute"] < 1:
        raise ConfigError(
            f"{_describe('server', 'login_rate_per_minute', origin)}: must be 1 or more"
        )
    header = server["trusted_proxy_header"].strip()
    if header and not all(part.isalnum() for part in header.split("-")):
        raise ConfigError(
            f"{_describe('server', 'trusted_proxy_header', origin)}: {header!r} is not a "
            "header name (e.g. X-Forwarded-Proto)"
        )
    server["trusted_proxy_header"] = header

    _check_mangabaka(sections["providers.mangabaka"], origin)
    _check_torrents(sections["torrents"], origin)
    _check_notifications(sections["notifications"], origin)


def _check_notifications(notifications: dict[str, Any], origin: Mapping[str, str]) -> None:
    """Apprise URLs as a clean list; positive backoff bounds; a valid digest cron."""
    notifications["urls"] = [str(url).strip() for url in notifications["urls"] if str(url).strip()]
    for key in ("retry_base_seconds", "retry_max_seconds", "source_failures"):
        if notifications[key] < 1:
            raise ConfigError(f"{_describe('notifications', key, origin)}: must be 1 or more")
    if notifications["retry_max_seconds"] < notifications["retry_base_seconds"]:
        raise ConfigError(
            f"{_describe('notifications', 'retry_max_seconds', origin)}: must not be below "
            "notifications.retry_base_seconds"
        )
    notifications["digest_cron"] = _validate_cron(
        notifications["digest_cron"], _describe("notifications", "digest_cron", origin)
    )


def _check_torrents(torrents: dict[str, Any], origin: Mapping[str, str]) -> None:
    """A known client with an http(s) URL when sending is on; a positive timeout."""
    client = torrents["client"].strip().lower()
    torrents["client"] = client
    if client and client not in TORRENT_CLIENTS:
        raise ConfigError(
            f"{_describe('torrents', 'client', origin)}: {client!r} is not one of "
            f"{', '.join(TORRENT_CLIENTS)} (or empty for no client)"
        )
    torrents["url"] = torrents["url"].strip().rstrip("/")
    if client and not torrents["url"].startswith(("http://", "https://")):
        raise ConfigError(
            f"{_describe('torrents', 'url', origin)}: expected the client's http(s) URL "
            f"when torrents.client is {client!r}"
        )
    if torrents["timeout_seconds"] <= 0:
        raise ConfigError(f"{_describe('torrents', 'timeout_seconds', origin)}: must be positive")


def _check_covers(covers: dict[str, Any], origin: Mapping[str, str]) -> None:
    """The cover cache's bounds: positive sizes, and one image must fit in the cache."""
    for key in ("max_cache_mb", "max_image_mb"):
        if covers[key] < 1:
            raise ConfigError(f"{_describe('covers', key, origin)}: must be 1 or more")
    if covers["max_image_mb"] > covers["max_cache_mb"]:
        raise ConfigError(
            f"{_describe('covers', 'max_image_mb', origin)}: must not be above "
            "covers.max_cache_mb (one image must fit in the cache)"
        )
    if covers["timeout_seconds"] <= 0:
        raise ConfigError(f"{_describe('covers', 'timeout_seconds', origin)}: must be positive")
    covers["prefetch_cron"] = _validate_cron(
        covers["prefetch_cron"], _describe("covers", "prefetch_cron", origin)
    )


def load_config(
    environ_map: Mapping[str, str] | None = None,
    *,
    base_dir: Path | None = None,
) -> Config:
    """Read and validate the whole configuration.

    `environ_map` defaults to `os.environ` after the `.env` file has been read
    into it (process environment wins over `.env`, as django-environ does).
    """
    base_dir = base_dir or Path.cwd()
    if environ_map is None:
        env_file = Path(os.environ.get("TSUNDOKU_ENV_FILE", base_dir / ".env"))
        if env_file.is_file():
            environ.Env.read_env(str(env_file), overwrite=False)
        environ_map = os.environ

    config_path: Path | None = None
    if environ_map.get("TSUNDOKU_CONFIG"):
        config_path = Path(environ_map["TSUNDOKU_CONFIG"]).expanduser()
    elif (base_dir / "tsundoku.toml").is_file():
        config_path = base_dir / "tsundoku.toml"
    document = _read_toml(config_path) if config_path else {}

    top_level = {section.partition(".")[0] for section in SCHEMA}
    unknown_sections = set(document) - top_level - {"sources"}
    nested = {section for section in SCHEMA if "." in section}
    for head in {section.partition(".")[0] for section in nested}:
        table = document.get(head, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{head}]: expected a table")
        unknown_sections |= {f"{head}.{name}" for name in table} - nested
    if unknown_sections:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown_sections))}")

    sections: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    for section, settings in SCHEMA.items():
        from_file = _table(document, section)
        unknown = set(from_file) - set(settings)
        if unknown:
            raise ConfigError(f"{section}: unknown key(s) {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, setting in settings.items():
            variable = env_name(section, key)
            if variable in environ_map:
                raw, where = environ_map[variable], variable
                origin[f"{section}.{key}"] = variable
            else:
                raw, where = from_file.get(key, setting.default), f"{section}.{key}"
            values[key] = _coerce(raw, setting, where)
        sections[section] = values

    _check_sections(sections, origin)
    for warning in unknown_variable_warnings(environ_map):
        logger.warning("%s", warning)
    grouped: dict[str, Any] = {}
    for section, values in sections.items():
        head, _, tail = section.partition(".")
        if tail:
            grouped.setdefault(head, {})[tail] = values
        else:
            grouped[head] = values
    return Config(
        **grouped,
        sources=_read_sources(document.get("sources")),
        config_file=config_path,
    )


def unknown_variable_warnings(environ_map: Mapping[str, str]) -> list[str]:
    """One line per `TSUNDOKU_*` variable that is no setting, with the closest one it may mean.

    A misspelt variable is otherwise silently ignored, and the operator's
    setting with it. A warning, not an error: other tools may share the prefix.
    """
    known = {env_name(section, key) for section, keys in SCHEMA.items() for key in keys}
    known |= NON_SETTING_VARIABLES
    lines = []
    for variable in sorted(environ_map):
        if not variable.startswith(ENV_PREFIX) or variable in known:
            continue
        # Compared without the shared prefix, which would make every name look close.
        guess = difflib.get_close_matches(
            variable.removeprefix(ENV_PREFIX),
            sorted(name.removeprefix(ENV_PREFIX) for name in known),
            n=1,
            cutoff=0.6,
        )
        hint = f"; did you mean {ENV_PREFIX}{guess[0]}?" if guess else ""
        lines.append(f"tsundoku: ignoring unknown environment variable {variable}{hint}")
    return lines


def secret_values(config: Config) -> list[str]:
    """Every configured secret, for log redaction and leak tests."""
    found = []
    for section, settings in SCHEMA.items():
        for key, setting in settings.items():
            value = config.section(section).get(key)
            if setting.secret and isinstance(value, list):
                # A list of secrets (notification URLs): each one is redacted on its own.
                found.extend(str(item) for item in value if item)
            elif setting.secret and value:
                found.append(str(value))
    return found
