"""Styled error pages (issue 11): 404, 403 and 500 look like tsundoku, not bare Django."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_styled(response, status: int, heading: str) -> str:
    assert response.status_code == status
    text = response.content.decode()
    assert heading in text
    assert "css/tsundoku.css" in text
    assert "Back to the feed" in text
    return text


def test_an_unknown_page_is_a_styled_404(client, settings):
    settings.DEBUG = False

    assert_styled(client.get("/no-such-page"), 404, "There is nothing at this address")


def test_a_reader_on_an_admin_page_gets_a_styled_403(client, django_user_model):
    user = django_user_model.objects.create_user(username="reader", password="reader-pass-1")
    client.force_login(user)

    assert_styled(client.get("/codex/"), 403, "This page is not open to you")


def test_an_unexpected_failure_is_a_styled_500_that_hides_the_detail(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    with mock.patch("feed.series_page.paginate", side_effect=RuntimeError("/srv/secret/path")):
        text = assert_styled(client.get("/"), 500, "Something went wrong on our side")

    assert "secret" not in text
