"""Remembered misses: a lookup a provider could not answer is not asked again for a while.

Persisted (`NegativeLookup`) so a restart or a second process does not
re-ask MangaBaka about the same unknown id; the TTL comes from
`providers.<name>.negative_cache_ttl_days` (0 disables the cache).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from metadata.models import NegativeLookup


class NegativeCache:
    """Misses for one provider, expiring after `ttl`."""

    def __init__(self, provider: str, ttl: timedelta) -> None:
        self.provider = provider
        self.ttl = ttl

    def is_known_miss(self, key: str) -> bool:
        if self.ttl <= timedelta(0):
            return False
        return NegativeLookup.objects.filter(
            provider=self.provider, key=key[:300], expires_at__gt=timezone.now()
        ).exists()

    def remember_miss(self, key: str) -> None:
        if self.ttl <= timedelta(0):
            return
        NegativeLookup.objects.update_or_create(
            provider=self.provider,
            key=key[:300],
            defaults={"expires_at": timezone.now() + self.ttl},
        )

    def forget(self, key: str) -> None:
        NegativeLookup.objects.filter(provider=self.provider, key=key).delete()

    def purge_expired(self) -> int:
        """Delete expired entries (a refresh calls this); returns how many went."""
        deleted, _ = NegativeLookup.objects.filter(
            provider=self.provider, expires_at__lte=timezone.now()
        ).delete()
        return deleted

    def clear(self) -> int:
        """Forget every miss (a new dump may know them now)."""
        deleted, _ = NegativeLookup.objects.filter(provider=self.provider).delete()
        return deleted
