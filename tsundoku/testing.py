"""Pin the configuration the suite runs with, before Django reads its settings.

Loaded with `-p tsundoku.testing` (see pyproject), which imports this module
while pytest parses its arguments — earlier than pytest-django loads settings
and earlier than any conftest. Operator variables from the shell are dropped
so a developer's own TSUNDOKU_* environment cannot change test results.

It also sets what makes the suite fast and steady: a cheap password hasher
(the production one is slow on purpose) and a hypothesis profile without
per-example deadlines, which fail at random on a busy machine.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

_test_database_url = os.environ.get("TSUNDOKU_TEST_DATABASE_URL")
# CI sets this so missing chromium fails the browser tests instead of skipping them.
_require_browser = os.environ.get("TSUNDOKU_REQUIRE_BROWSER")
for name in [name for name in os.environ if name.startswith("TSUNDOKU_")]:
    del os.environ[name]
os.environ.pop("DATABASE_URL", None)

os.environ["TSUNDOKU_CONFIG"] = str(
    Path(__file__).resolve().parent.parent / "tests" / "tsundoku.test.toml"
)
os.environ["TSUNDOKU_ENV_FILE"] = os.devnull
os.environ["TSUNDOKU_STORAGE__DATA_DIR"] = tempfile.mkdtemp(prefix="tsundoku-test-")
if _test_database_url:
    # `make test-postgres` runs the same suite against PostgreSQL. The variable
    # is put back because xdist's workers import this module again from the
    # environment set here: without it they would drop DATABASE_URL and run
    # on SQLite while the run says PostgreSQL.
    os.environ["DATABASE_URL"] = _test_database_url
    os.environ["TSUNDOKU_TEST_DATABASE_URL"] = _test_database_url
if _require_browser:
    os.environ["TSUNDOKU_REQUIRE_BROWSER"] = _require_browser

# No deadline: a property test's examples are judged on what they return,
# never on how long a shared CI core took. `HYPOTHESIS_PROFILE=ci` (set by
# .ci/run) also derandomizes, so a CI run is repeatable.
hypothesis_settings.register_profile("tsundoku", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tsundoku"))

# MD5 is worthless for real passwords and exactly right for tests: every
# `create_user` and login would otherwise spend ~0.1 s in PBKDF2.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_addoption(parser: pytest.Parser) -> None:
    # Named on the command line, not in the environment this module rewrites,
    # so every xdist worker sees it as given (tests/test_test_database.py).
    parser.addoption(
        "--expect-database",
        choices=("sqlite", "postgresql"),
        help="fail unless the suite's connection is this database (make test-postgres)",
    )


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing(django_test_environment: None) -> Iterator[None]:
    """Hash test passwords with MD5 for the whole session (workers included)."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(autouse=True)
def fresh_throttle_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no throttle counts (wrong tokens, logins) left by another."""
    yield
    if "django_test_environment" in request.fixturenames or "settings" in request.fixturenames:
        from django.core.cache import cache

        cache.clear()
