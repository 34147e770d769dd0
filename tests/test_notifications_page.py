"""The Notifications page: targets masked, their state shown, Send test; admin only; URLs secret."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.delivery import deliver_pending, private_label, url_hash
from notifications.models import EventKind, NotificationEvent, NotificationTarget
from tests.notification_helpers import json_webhook
from tsundoku.config import secret_values
from tsundoku.logging import RedactSecretsFilter

pytestmark = pytest.mark.django_db

TOKEN = "webhook-token-5a9d2c"


def test_targets_are_shown_masked_and_never_stored_in_clear(admin_client, tsundoku_config):
    url = f"json://tsundoku:{TOKEN}@127.0.0.1:9/hook"
    tsundoku_config(notifications={"urls": [url]})

    html = admin_client.get("/notifications/").content.decode()

    assert "127.0.0.1:9/hook" in html
    assert TOKEN not in html
    target = NotificationTarget.objects.get()
    assert target.url_hash == url_hash(url) and TOKEN not in target.label
    assert target.label == private_label(url)


def test_send_test_reports_each_target(admin_client, tsundoku_config):
    with json_webhook() as good, json_webhook() as bad:
        bad.fail_with = 503
        tsundoku_config(notifications={"urls": [good.apprise_url, bad.apprise_url]})

        html = admin_client.post("/notifications/test", follow=True).content.decode()

    assert good.received[0]["title"] == "tsundoku: test notification"
    assert f"Test sent to json://127.0.0.1:{good.port}/hook" in html
    assert f"Test to json://127.0.0.1:{bad.port}/hook" in html and "failed" in html


def test_send_test_without_targets_says_how_to_add_one(admin_client):
    html = admin_client.post("/notifications/test", follow=True).content.decode()
    assert "No notification targets are configured (notifications.urls)." in html


def test_a_failing_target_shows_its_error_and_next_try(admin_client, tsundoku_config):
    with json_webhook() as webhook:
        webhook.fail_with = 500
        tsundoku_config(notifications={"urls": [webhook.apprise_url], "retry_base_seconds": 30})
        deliver_pending()  # creates the target at the newest event
        NotificationEvent.objects.create(key="k1", kind=EventKind.RELEASE, title="Berserk v42")
        deliver_pending()
        NotificationTarget.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        deliver_pending()

        html = admin_client.get("/notifications/").content.decode()

    target = NotificationTarget.objects.get()
    assert target.failures == 2
    # 30 s after the first failure, 60 s after the second: doubled each time.
    assert (target.next_attempt_at - target.last_attempt_at) == timedelta(seconds=60)
    assert "2 attempts failed" in html and 'data-testid="target-error"' in html
    assert "Berserk v42" in html


def test_the_page_and_send_test_are_for_the_admin_only(client, django_user_model, tsundoku_config):
    tsundoku_config(notifications={"urls": [f"json://127.0.0.1:9/{TOKEN}"]})
    assert client.get("/notifications/").status_code == 302
    client.force_login(django_user_model.objects.create_user("reader", password="pw-reader-1"))
    assert client.get("/notifications/").status_code == 403
    assert client.post("/notifications/test").status_code == 403
    assert TOKEN not in client.get("/").content.decode()


def test_every_notification_url_is_a_secret_for_redaction(settings, tsundoku_config):
    urls = [f"ntfy://ntfy.example/{TOKEN}", f"discord://1234/{TOKEN}-2"]
    tsundoku_config(notifications={"urls": urls})

    assert set(urls) <= set(secret_values(settings.TSUNDOKU))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.notification-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("could not reach %s", urls[0])
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "could not reach ***\n"
