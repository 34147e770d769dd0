"""Follows are personal: nothing about one user's follows reaches another user or the read tier."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from rest_framework.test import APIClient

from follows.models import Follow
from tests.helpers import ADMIN_TOKEN

pytestmark = pytest.mark.django_db

FOLLOW_MARKS = ("★ Following", "followed_at", "followedAt", "following")


@pytest.fixture
def followed(make_series, staff_user):
    """The admin follows Vinland Saga."""
    series = make_series("Vinland Saga", release_count=1)
    Follow.objects.create(user=staff_user, series=series)
    return series


def test_the_read_tier_sees_no_follow_on_any_page(client, django_user_model, followed):
    reader = Client()
    reader.force_login(django_user_model.objects.create_user("reader", password="pw-reader-1"))
    for visitor in (client, reader):
        for path in ("/", "/?view=list", f"/series/{followed.pk}/", "/?following=true"):
            html = visitor.get(path).content.decode()
            assert "★ Following" not in html, path
        if visitor is reader:
            assert "Vinland Saga" not in reader.get("/wanted/").content.decode()


@pytest.mark.parametrize("token", [None, ADMIN_TOKEN])
def test_no_api_payload_carries_follows(followed, token):
    api = APIClient()
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for path in ("/api/v1/series", f"/api/v1/series/{followed.pk}", "/api/v1/stats"):
        raw = api.get(path).content.decode()
        assert not any(mark in raw for mark in FOLLOW_MARKS), path


def test_follows_are_not_in_the_django_admin():
    assert Follow not in admin.site._registry
