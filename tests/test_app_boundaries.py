"""Apps meet through models and public service functions, never through each other's insides.

An app may import another app's models and service modules (`feed.models`,
`codex_sync.overlay`, ...), but not its `views`, `api`, `templatetags` or
`admin`: what several apps need lives in the project layer, `tsundoku/`.
The rule is read from the source with `ast`, so a new import that breaks it
fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
# Every Django app of the project. `tsundoku` is held to the rule too (it may
# not reach into an app's views), while its own shared pieces are open to all.
APPS = sorted(
    path.parent.name
    for path in REPO_DIR.glob("*/apps.py")
    if path.parent.name not in {"tests", "benchmarks"}
)
PRIVATE_PARTS = {"views", "api", "templatetags", "admin"}
# What every app may import: the shared API pieces, template tags, admin base.
PROJECT_LAYER = "tsundoku"


def _private_part(app: str, module: str) -> bool:
    """Is `module` inside another app's views, api, templatetags or admin?"""
    parts = module.split(".")
    return (
        len(parts) >= 2
        and parts[0] != app
        and parts[0] in APPS
        and parts[0] != PROJECT_LAYER
        and parts[1] in PRIVATE_PARTS
    )


def imported_modules(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """Each absolute import statement: its line and the modules it may bring in.

    `from feed import views` may import the submodule `feed.views`, so a
    from-import counts both its module and each `module.name`.
    """
    statements: list[tuple[int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            statements.extend((node.lineno, [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            statements.append((node.lineno, [node.module, *names]))
    return statements


def boundary_violations(app: str, source_root: Path) -> list[str]:
    """`file:line imports module` for each import of another app's private parts."""
    violations = []
    for path in sorted((source_root / app).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, modules in sorted(imported_modules(tree)):
            private = [module for module in modules if _private_part(app, module)]
            if private:
                violations.append(f"{path.relative_to(source_root)}:{line} imports {private[0]}")
    return violations


def test_the_project_has_the_apps_this_rule_is_about():
    assert {"tsundoku", "feed", "codex_sync", "exports"} <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_an_app_does_not_import_another_apps_views_api_tags_or_admin(app):
    assert boundary_violations(app, REPO_DIR) == []


def test_the_rule_catches_a_cross_app_import(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "views.py").write_text(
        "from feed.api.views import validated\n"
        "from feed import views\n"
        "import codex_sync.templatetags.codex_tags\n"
        "from feed.models import Series\n"
        "from exports.api import serializers\n"
        "from tsundoku.api.responses import BAD_REQUEST\n"
    )

    assert boundary_violations("exports", tmp_path) == [
        "exports/views.py:1 imports feed.api.views",
        "exports/views.py:2 imports feed.views",
        "exports/views.py:3 imports codex_sync.templatetags.codex_tags",
    ]
