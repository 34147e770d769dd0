"""Who follows which series: personal data, private to the follower."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from feed.models import Series


def new_feed_token() -> str:
    """A URL-safe secret: 32 random bytes."""
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret in a user's Atom feed URL; regenerating it retires the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"feed token of {self.user_id}"


class Follow(models.Model):
    """One user follows one series (a wishlist entry).

    Private to `user`: no page, API payload or admin screen shows one user's
    follows to anyone else, the admin included (it is not registered in the
    Django admin for that reason).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "series"], name="follow_once_per_user"),
        ]
        indexes = [
            # "Following" sorted by when followed, newest first.
            models.Index(fields=["user", "created_at"], name="follow_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.series_id}"
