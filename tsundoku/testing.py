"""Pin the configuration the suite runs with, before Django reads its settings.

Loaded with `-p tsundoku.testing` (see pyproject), which imports this module
while pytest parses its arguments — earlier than pytest-django loads settings
and earlier than any conftest. Operator variables from the shell are dropped
so a developer's own TSUNDOKU_* environment cannot change test results.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
    # `make test-postgres` runs the same suite against PostgreSQL.
    os.environ["DATABASE_URL"] = _test_database_url
if _require_browser:
    os.environ["TSUNDOKU_REQUIRE_BROWSER"] = _require_browser
