"""Django settings for tsundoku.

Everything the operator can change comes from `tsundoku.config` (defaults →
TOML → .env → environment), validated once here at import: a bad value stops
every entry point — manage.py, the web server, the worker — with the key's name.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ

from tsundoku.config import ConfigError, load_config

BASE_DIR = Path(__file__).resolve().parent.parent

# `./tsundoku.toml`, `./.env` and the default `./data` are relative to the working directory.
TSUNDOKU = load_config(base_dir=Path.cwd())
DATA_DIR = TSUNDOKU.data_dir
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, else one generated once and kept in the data dir.

    A self-hosted app should not ship a shared default key, and asking every
    operator to invent one is friction; a per-install file gives both.
    """
    if TSUNDOKU.server["secret_key"]:
        return TSUNDOKU.server["secret_key"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = TSUNDOKU.server["debug"]
ALLOWED_HOSTS = TSUNDOKU.server["allowed_hosts"]
CSRF_TRUSTED_ORIGINS = TSUNDOKU.server["csrf_trusted_origins"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "csp",
    "tsundoku.apps.TsundokuConfig",
    "feed",
    "codex_sync",
    "exports",
    "metadata",
    "covers",
    "follows",
    "torrents",
    "notifications",
    "devtools",
]

MIDDLEWARE = [
    # Outermost: the collector stays off while any of the rest runs.
    "tsundoku.garbage_collection.CollectAfterEachRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "tsundoku.security.PrivateResponsesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tsundoku.access.AccessTierMiddleware",
    # A write that still finds SQLite locked after the busy timeout: 503 + Retry-After.
    "tsundoku.api.errors.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "tsundoku.urls"
WSGI_APPLICATION = "tsundoku.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tsundoku.access.access_tier",
            ],
        },
    },
]

# SQLite under the data dir unless DATABASE_URL says otherwise (PostgreSQL works
# through the same setting). WAL lets the web server read while the worker
# writes; IMMEDIATE transactions avoid "database is locked" on upgrade-to-write.
# A writer waits up to SQLITE_BUSY_TIMEOUT_S for the lock: longer than the
# sweep's apply transaction at 50k series, shorter than the web server's
# request timeout (`tsundoku.serve`). Past it, the request answers 503 +
# Retry-After (`tsundoku.api.errors.DatabaseBusyMiddleware`), never a bare 500.
SQLITE_BUSY_TIMEOUT_S = 20
_default_sqlite = f"sqlite:///{DATA_DIR / 'tsundoku.sqlite3'}"


def _database(url: str) -> dict:
    """DATABASE_URL as Django's DATABASES entry, or one readable ConfigError naming it."""
    scheme = url.partition("://")[0]
    if scheme not in environ.Env.DB_SCHEMES or "://" not in url:
        raise ConfigError(
            f"DATABASE_URL: {scheme or url!r} is not a database URL "
            "(e.g. postgres://user:password@host:5432/tsundoku or sqlite:////path/to/db)"
        )
    return environ.Env.db_url_config(url)


DATABASES = {"default": _database(os.environ.get("DATABASE_URL") or _default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000};"
        ),
        "timeout": SQLITE_BUSY_TIMEOUT_S,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "feed:index"
LOGOUT_REDIRECT_URL = "feed:index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = TSUNDOKU.server["time_zone"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the finders (no collectstatic step needed to run).
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the little JS on admin pages reads it for POSTs

# HTTPS. Served over https (public_url says so), cookies are Secure, HSTS is a
# year and plain HTTP redirects, unless the operator says otherwise. Behind a
# TLS-terminating proxy, trusted_proxy_header names the header it sets (only
# then may Django believe it; a client could send it too).
_server = TSUNDOKU.server
_https = _server["public_url"].lower().startswith("https://")
_secure = _https if _server["secure_cookies"] is None else _server["secure_cookies"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = _secure
# Probes on the box itself ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
SECURE_HSTS_SECONDS = (
    (31_536_000 if _https else 0) if _server["hsts_seconds"] is None else _server["hsts_seconds"]
)
if _server["trusted_proxy_header"]:
    _meta_name = "HTTP_" + _server["trusted_proxy_header"].upper().replace("-", "_")
    SECURE_PROXY_SSL_HEADER = (_meta_name, "https")
# HSTS for subdomains and the preload list are the domain owner's call, not an
# app's: tsundoku often lives on one subdomain of a home domain.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp, Mozilla's; Django 5.2 has none built in):
# the app's own scripts and styles only. Inline style attributes stay allowed
# for the cover tiles' per-title hue (`style="--hue: …"`), nothing else inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The throttles' counts (wrong tokens, login attempts) must be shared by every
# web worker process, so the cache lives on disk under the data dir.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tsundoku.access.AdminTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tsundoku.access.ReadTier"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tsundoku.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "tsundoku.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "tsundoku API",
    "DESCRIPTION": (
        "Self-hosted manga discovery. Admin-only fields and endpoints need a staff "
        "session or `Authorization: Bearer <auth.admin_token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "adminToken": {"type": "http", "scheme": "bearer"},
            "readKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
}

# django-q2 uses the Django database as its broker: no Redis to run. On SQLite
# one worker avoids write contention; retry must exceed timeout or a slow task
# is started twice.
Q_CLUSTER = {
    "name": "tsundoku",
    "orm": "default",
    "workers": 1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 2,
    "timeout": 1800,
    "retry": 2100,
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 500,
    "poll": 2,
    "label": "Background tasks",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "tsundoku.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": TSUNDOKU.logging["level"]},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
    },
}
