from django.conf import settings


def test_suite_runs_with_the_pinned_test_config():
    assert settings.TSUNDOKU.auth["admin_token"] == "test-admin-token-7f3a"
    assert settings.TSUNDOKU.codex["base_url"] == "http://codex.test"
