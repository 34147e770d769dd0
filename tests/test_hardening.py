"""Hardening (issue 11): brute-force throttles, the CSP, tier-safe caching headers, HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.helpers import ADMIN_TOKEN, READ_KEY

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_counts_left():
    cache.clear()
    yield
    cache.clear()


def test_wrong_bearer_tokens_are_throttled_after_twenty_a_minute(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer guess-0000000000")
    statuses = [api_client.get("/api/v1/releases").status_code for _ in range(21)]

    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    response = api_client.get("/api/v1/releases")
    assert response.json()["error"] == "rate_limited"
    assert int(response["Retry-After"]) > 0


def test_wrong_bearer_tokens_on_pages_are_throttled_by_the_same_rule(client, api_client):
    wrong = {"HTTP_AUTHORIZATION": "Bearer guess-0000000000"}
    statuses = [client.get("/", **wrong).status_code for _ in range(21)]

    assert statuses[:20] == [200] * 20  # the feed, as any reader sees it
    assert statuses[20] == 429
    refused = client.get("/", **wrong)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "guess-0000000000" not in refused.content.decode()
    # One count per address across pages and the API: the API is refused too.
    api_client.credentials(**wrong)
    assert api_client.get("/api/v1/releases").status_code == 429
    # Without a bearer the page still answers.
    assert client.get("/").status_code == 200


def test_the_admin_token_on_pages_is_never_counted(client):
    right = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}

    assert [client.get("/", **right).status_code for _ in range(25)] == [200] * 25


def test_the_right_token_and_tokenless_reads_are_never_counted(api_client, admin_api):
    for _ in range(25):
        assert admin_api.get("/api/v1/releases").status_code == 200
        assert api_client.get("/api/v1/series").status_code == 200


def test_the_read_key_as_a_bearer_is_not_a_wrong_token(tsundoku_config):
    tsundoku_config(auth={"read_requires_auth": True, "api_key": READ_KEY})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {READ_KEY}")

    assert [client.get("/api/v1/series").status_code for _ in range(25)] == [200] * 25


def test_fifty_wrong_logins_then_the_right_one_is_refused(client, django_user_model):
    django_user_model.objects.create_user(username="admin", password="right-password-1")
    statuses = [
        client.post("/accounts/login/", {"username": "admin", "password": f"wrong-{n}"}).status_code
        for n in range(50)
    ]

    right = client.post("/accounts/login/", {"username": "admin", "password": "right-password-1"})

    assert statuses[:10] == [200] * 10  # the form again, with its error
    assert set(statuses[10:]) == {429}
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert "Too many sign-in attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_login_within_the_rate_works(client, django_user_model):
    django_user_model.objects.create_user(username="admin", password="right-password-1")
    client.post("/accounts/login/", {"username": "admin", "password": "wrong"})

    response = client.post(
        "/accounts/login/", {"username": "admin", "password": "right-password-1"}
    )

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("path", ["/", "/api/v1/series", "/accounts/login/", "/api/v1/docs"])
def test_every_page_carries_a_csp_allowing_only_the_apps_own_scripts(client, path):
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in directives.get("style-src", "")
    assert directives["frame-ancestors"] == "'none'"


def test_the_api_docs_page_has_no_inline_script(client):
    text = client.get("/api/v1/docs").content.decode()

    for chunk in text.split("<script")[1:]:
        assert "src=" in chunk.split(">", 1)[0], chunk[:200]


@pytest.mark.parametrize("path", ["/", "/api/v1/series", "/api/v1/info"])
def test_tier_dependent_answers_are_private_and_vary_on_credentials(client, admin_api, path):
    for response in (client.get(path), admin_api.get(path)):
        assert "private" in response["Cache-Control"]
        vary = {part.strip().lower() for part in response["Vary"].split(",")}
        assert {"authorization", "cookie"} <= vary


def test_admin_api_answers_with_codex_data_are_private(admin_api):
    response = admin_api.get("/api/v1/codex/status")

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "authorization" in response["Vary"].lower()


def _check_deploy(config: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNDOKU_")}
    env.pop("DATABASE_URL", None)
    env.update(
        TSUNDOKU_CONFIG=str(config),
        TSUNDOKU_ENV_FILE=os.devnull,
        TSUNDOKU_STORAGE__DATA_DIR=str(tmp_path),
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_config(tmp_path):
    result = _check_deploy(REPO / "deploy" / "tsundoku.production.toml", tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_plain_http_config(tmp_path):
    config = tmp_path / "plain.toml"
    config.write_text('[server]\nallowed_hosts = ["tsundoku.example.com"]\n')

    result = _check_deploy(config, tmp_path)

    assert result.returncode != 0
    assert "security.W012" in result.stdout + result.stderr
