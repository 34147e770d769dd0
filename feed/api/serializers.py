"""Serializers of the discovery API: camelCase on the wire, model names behind `source=`.

Output conventions, the same in every payload: times are integer epoch
seconds (null when absent), volume/chapter numbers print whole values as
integers (`12`, not `12.0`; `10.5` stays), coverage is `[{start, end}]`.

The Codex overlay (`owned`, `codex`) lives only in the `Admin…` serializers;
views pick those for admins, so for the read tier the keys do not exist at
all rather than being null.
"""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codex_sync import overlay
from codex_sync.status import CodexStatus
from feed.api.cursor import FeedPosition, InvalidCursor, decode_cursor
from feed.external_ids import normalize_provider
from feed.models import MatchMethod, Provider, Resolution, Series, SeriesKind, SeriesStatus
from feed.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from feed.spans import plain_number
from tsundoku.api.serializers import EpochSecondsField
from tsundoku.db import MAX_DATABASE_ID

FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 500
# Codex's plugin posts one "provider:id" per external id of every tracked
# series; a large library stays well below this, and it keeps one statement's
# parameter count inside what SQLite and PostgreSQL accept.
FEED_MAX_EXTERNAL_IDS = 50_000


@extend_schema_field(OpenApiTypes.NUMBER)
class VolumeNumberField(serializers.Field):
    """A volume or chapter number: whole values as integers, fractions as decimals."""

    def to_representation(self, value: float) -> int | float:
        return plain_number(value)


class BlankAsNullCharField(serializers.CharField):
    """Optional text stored as "" in the database, null on the wire."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str | None:
        return value or None


class SpanSerializer(serializers.Serializer):
    """One inclusive range of volume or chapter numbers (stored as `[start, end]`)."""

    start = VolumeNumberField()
    end = VolumeNumberField()

    def to_representation(self, instance) -> dict[str, int | float]:
        start, end = instance
        return {"start": plain_number(start), "end": plain_number(end)}


class ExternalIdSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=Provider.choices)
    externalId = serializers.CharField(source="external_id")


class CodexGapSerializer(serializers.Serializer):
    """What has surfaced beyond Codex's counts (`codex_sync.status.codex_gap`)."""

    volumes = SpanSerializer(many=True)
    chapters = SpanSerializer(many=True)


class CodexOverlaySerializer(serializers.Serializer):
    """The admin-only `codex` object (built by `codex_sync.overlay.codex_payload`)."""

    status = serializers.CharField(
        allow_null=True, help_text=f"One of {', '.join(CodexStatus.ALL)} (SPEC §5.3)."
    )
    codexSeriesUuid = serializers.UUIDField()
    url = serializers.URLField(help_text="Deep link to the series in Codex's web UI.")
    linkKind = serializers.CharField(help_text="auto or manual.")
    localMaxVolume = serializers.IntegerField(allow_null=True)
    localMaxChapter = serializers.FloatField(allow_null=True)
    volumesOwned = serializers.IntegerField(allow_null=True)
    gap = CodexGapSerializer(
        help_text="Ranges surfaced beyond Codex's counts; empty when caught up or tracking off."
    )
    matchedProvider = serializers.CharField(allow_null=True)
    syncedAt = serializers.IntegerField(allow_null=True, help_text="Epoch seconds.")


@extend_schema_field(OpenApiTypes.BOOL)
class OwnedField(serializers.Field):
    """Whether the series is linked to a Codex series (admin only)."""

    def to_representation(self, series: Series) -> bool:
        return overlay.link_of(series) is not None


@extend_schema_field(CodexOverlaySerializer)
class CodexField(serializers.Field):
    """The series' Codex link and status, or null when it is not on Codex (admin only)."""

    def to_representation(self, series: Series) -> dict | None:
        return overlay.codex_payload(series)


class SeriesItemSerializer(serializers.Serializer):
    """A series in a list, as every reader sees it."""

    id = serializers.IntegerField()
    canonicalTitle = serializers.CharField(source="canonical_title")
    coverUrl = BlankAsNullCharField(source="cover_url")
    kind = serializers.ChoiceField(choices=SeriesKind.choices)
    status = serializers.ChoiceField(choices=SeriesStatus.choices)
    year = serializers.IntegerField(allow_null=True)
    releaseCount = serializers.IntegerField(source="release_count")
    highestVolume = VolumeNumberField(source="highest_volume", allow_null=True)
    highestChapter = VolumeNumberField(source="highest_chapter", allow_null=True)
    totalVolumes = serializers.IntegerField(source="total_volumes", allow_null=True)
    totalChapters = serializers.IntegerField(source="total_chapters", allow_null=True)
    lastReleaseAt = EpochSecondsField(source="last_release_at", allow_null=True)
    firstSeenAt = EpochSecondsField(source="first_seen_at")


class CodexOverlayFields(serializers.Serializer):
    """The admin-only keys; mixed into the `Admin…` serializers only."""

    owned = OwnedField(source="*", required=False, help_text="Admin only: on Codex at all.")
    codex = CodexField(
        source="*",
        required=False,
        allow_null=True,
        help_text="Admin only: the Codex link and status; null when not on Codex.",
    )


class AdminSeriesItemSerializer(SeriesItemSerializer, CodexOverlayFields):
    """A series in a list with the Codex overlay (admins)."""


class SeriesDetailSerializer(SeriesItemSerializer):
    """One series with its metadata, external ids and coverage."""

    alternateTitles = serializers.ListField(
        child=serializers.CharField(), source="alternate_titles"
    )
    description = serializers.CharField()
    genres = serializers.ListField(child=serializers.CharField())
    externalIds = ExternalIdSerializer(source="external_ids.all", many=True)
    volumeCoverage = SpanSerializer(source="volume_coverage", many=True)
    chapterCoverage = SpanSerializer(source="chapter_coverage", many=True)


class AdminSeriesDetailSerializer(SeriesDetailSerializer, CodexOverlayFields):
    """One series with the Codex overlay (admins)."""


class SeriesListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1, help_text="1-based.")
    pageSize = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


class SeriesPageSerializer(serializers.Serializer):
    """A page of series. `owned`, `codex` and `codexSyncedAt` appear for admins only."""

    items = AdminSeriesItemSerializer(many=True)
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    total = serializers.IntegerField()
    codexSyncedAt = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Admin only: epoch seconds of the last successful Codex sweep.",
    )


@dataclass(frozen=True)
class ExternalIdRef:
    """One `provider:id` filter entry; `provider` is None when we have no such provider."""

    provider: str | None
    external_id: str


# What `ExternalIdRefField` accepts, for the schema: "provider:id", both parts
# non-blank, no comma (the GET form splits its values on commas, so an entry
# with one could not be said there) and no NUL (DRF refuses NUL in any text).
EXTERNAL_ID_REF_PATTERN = r"^[^:,\x00]*[^:,\s\x00][^:,\x00]*:[^,\x00]*[^,\s\x00][^,\x00]*$"


@extend_schema_field({"type": "string", "pattern": EXTERNAL_ID_REF_PATTERN})
class ExternalIdRefField(serializers.CharField):
    """`"provider:id"` → `ExternalIdRef`, with provider aliases normalised."""

    default_error_messages = {
        "format": 'Expected "provider:id" without commas, e.g. "anilist:30002".'
    }

    def to_internal_value(self, data) -> ExternalIdRef:
        text = super().to_internal_value(data)
        provider, separator, external_id = text.partition(":")
        if not separator or not provider.strip() or not external_id.strip() or "," in text:
            self.fail("format")
        # Unknown providers are not an error: the plugin passes names it cannot
        # map through verbatim, and such an entry simply matches nothing.
        return ExternalIdRef(normalize_provider(provider), external_id.strip())


class FeedRequestSerializer(serializers.Serializer):
    externalIds = serializers.ListField(
        child=ExternalIdRefField(),
        required=False,
        default=list,
        max_length=FEED_MAX_EXTERNAL_IDS,
        help_text='Only series carrying one of these "provider:id" pairs; empty = all.',
    )
    cursor = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="The previous page's nextCursor; null for the start of the feed.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=FEED_MAX_LIMIT, default=FEED_DEFAULT_LIMIT
    )

    def validate_cursor(self, value: str | None) -> FeedPosition | None:
        if not value:
            return None
        try:
            return decode_cursor(value)
        except InvalidCursor as exc:
            raise serializers.ValidationError(str(exc)) from exc


class FeedExternalIdSerializer(ExternalIdSerializer):
    # We keep no per-id fetch time, so the series' `updated_at` stands in. The
    # feed prefetch sets `series` on each row, so this costs no query.
    fetchedAt = EpochSecondsField(source="series.updated_at")


class FeedItemSerializer(serializers.Serializer):
    """One series in the incremental feed (the shape Codex's release plugin reads)."""

    seriesId = serializers.IntegerField(source="id")
    canonicalTitle = serializers.CharField(source="canonical_title")
    externalIds = FeedExternalIdSerializer(source="external_ids.all", many=True)
    volumeCoverage = SpanSerializer(source="volume_coverage", many=True)
    chapterCoverage = SpanSerializer(source="chapter_coverage", many=True)
    highestVolume = VolumeNumberField(source="highest_volume", allow_null=True)
    highestChapter = VolumeNumberField(source="highest_chapter", allow_null=True)
    updatedAt = EpochSecondsField(source="updated_at")


class FeedPageSerializer(serializers.Serializer):
    items = FeedItemSerializer(many=True)
    hasMore = serializers.BooleanField()
    nextCursor = serializers.CharField(
        allow_null=True, help_text="Pass back as `cursor` for the next page; null at the end."
    )


class LookupQuerySerializer(serializers.Serializer):
    provider = serializers.CharField(help_text='A provider token or alias ("myanimelist").')
    externalId = serializers.CharField()


class LookupMatchSerializer(serializers.Serializer):
    seriesId = serializers.IntegerField(source="series_id")
    provider = serializers.ChoiceField(choices=Provider.choices)
    externalId = serializers.CharField(source="external_id")
    canonicalTitle = serializers.CharField(source="series.canonical_title")


class LookupResponseSerializer(serializers.Serializer):
    matches = LookupMatchSerializer(many=True)


class CandidateSerializer(serializers.Serializer):
    """A review-queue suggestion: a series the title resembles, and how closely.

    A catalog series has `seriesId`; a series only the metadata provider knows
    has `seriesId: null` with `provider` and `externalId` (it is created when
    the admin links the release to it).
    """

    seriesId = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    score = serializers.FloatField()
    provider = serializers.CharField(required=False)
    externalId = serializers.CharField(required=False)
    year = serializers.IntegerField(required=False)


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    sizeBytes = serializers.IntegerField(source="size_bytes", allow_null=True)


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    postUrl = BlankAsNullCharField(source="post_url")
    torrentUrl = BlankAsNullCharField(source="torrent_url")
    magnet = BlankAsNullCharField()
    infoHash = BlankAsNullCharField(source="info_hash")
    sizeBytes = serializers.IntegerField(source="size_bytes", allow_null=True)
    postedAt = EpochSecondsField(source="posted_at", allow_null=True)
    observedAt = EpochSecondsField(source="observed_at")
    sourceName = serializers.CharField(source="source_name")
    seriesId = serializers.IntegerField(source="series_id", allow_null=True)
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    confidence = serializers.FloatField(allow_null=True)
    matchMethod = BlankAsNullCharField(
        source="match_method",
        help_text=", ".join(value for value in MatchMethod.values if value) + "; null if none.",
    )
    candidates = CandidateSerializer(many=True)
    volumeSpans = SpanSerializer(source="volume_spans", many=True)
    chapterSpans = SpanSerializer(source="chapter_spans", many=True)
    seeders = serializers.IntegerField(allow_null=True, help_text="As the feed last said.")
    leechers = serializers.IntegerField(allow_null=True)
    downloads = serializers.IntegerField(allow_null=True)
    trusted = serializers.BooleanField(help_text="Posted by an uploader Nyaa marks trusted.")
    remake = serializers.BooleanField(help_text="Nyaa marks it a re-upload of another post.")
    files = ReleaseFileSerializer(many=True, help_text="From the detail page; folders left out.")
    formats = serializers.ListField(child=serializers.CharField())
    informationUrl = BlankAsNullCharField(source="information_url")
    detailFetchedAt = EpochSecondsField(source="detail_fetched_at", allow_null=True)


class ReleaseListQuerySerializer(serializers.Serializer):
    status = serializers.CharField(
        required=False,
        # Blank means "no filter", as an absent parameter does.
        allow_blank=True,
        help_text=f"Comma-separated resolutions: {', '.join(Resolution.values)}.",
    )
    seriesId = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DATABASE_ID)
    sort = serializers.ChoiceField(
        choices=["observed", "useful"],
        default="observed",
        # Blank means the default, as an absent parameter does.
        allow_blank=True,
        help_text="observed: newest first; useful: not remade, trusted, most seeders, newest.",
    )
    page = serializers.IntegerField(min_value=1, default=1, help_text="1-based.")
    pageSize = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

    def validate_status(self, value: str) -> list[str]:
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [status for status in statuses if status not in Resolution.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown)}; use {', '.join(Resolution.values)}."
            )
        return statuses


class ReleasePageSerializer(serializers.Serializer):
    items = ReleaseSerializer(many=True)
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    total = serializers.IntegerField()


class ReleaseLinkSerializer(serializers.Serializer):
    seriesId = serializers.PrimaryKeyRelatedField(queryset=Series.objects.all())


class RetrySummarySerializer(serializers.Serializer):
    """What one retry pass over the unresolved and review-pending releases did."""

    examined = serializers.IntegerField()
    resolved = serializers.IntegerField()
    queuedForReview = serializers.IntegerField(source="queued_for_review")
    unresolved = serializers.IntegerField()


class SeriesCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    withReleases = serializers.IntegerField()


class ReleaseCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    unresolved = serializers.IntegerField()
    reviewPending = serializers.IntegerField()
    resolved = serializers.IntegerField()
    rejected = serializers.IntegerField()


class SourceStateSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    lastPolledAt = EpochSecondsField(source="last_polled_at", allow_null=True)
    lastSuccessAt = EpochSecondsField(source="last_success_at", allow_null=True)
    lastError = BlankAsNullCharField(source="last_error")


class CodexCountsSerializer(serializers.Serializer):
    linked = serializers.IntegerField(help_text="Catalog series linked to a Codex series.")
    lastSyncAt = serializers.IntegerField(
        allow_null=True, help_text="Epoch seconds of the last successful sweep."
    )


class StatsSerializer(serializers.Serializer):
    """Catalog counts. `codex` appears for admins only."""

    series = SeriesCountsSerializer()
    releases = ReleaseCountsSerializer()
    externalIds = serializers.IntegerField()
    sources = SourceStateSerializer(many=True)
    codex = CodexCountsSerializer(required=False)
