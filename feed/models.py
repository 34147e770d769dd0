"""The discovery catalog: series, their external ids, releases, and source state."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class SeriesKind(models.TextChoices):
    MANGA = "manga", "Manga"
    MANHWA = "manhwa", "Manhwa"
    MANHUA = "manhua", "Manhua"
    NOVEL = "novel", "Novel"
    ONE_SHOT = "one_shot", "One-shot"
    OEL = "oel", "OEL"
    OTHER = "other", "Other"


class SeriesStatus(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    COMPLETED = "completed", "Completed"
    HIATUS = "hiatus", "Hiatus"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Unknown"


class Provider(models.TextChoices):
    MANGABAKA = "mangabaka", "MangaBaka"
    ANILIST = "anilist", "AniList"
    MAL = "mal", "MyAnimeList"
    MANGAUPDATES = "mangaupdates", "MangaUpdates"
    MANGADEX = "mangadex", "MangaDex"
    KITSU = "kitsu", "Kitsu"
    SHIKIMORI = "shikimori", "Shikimori"
    ANIME_PLANET = "anime_planet", "Anime-Planet"
    ANIME_NEWS_NETWORK = "anime_news_network", "Anime News Network"


class SeriesOrigin(models.TextChoices):
    """How a series entered the catalog; decides whether the feed shows it by default."""

    IMPORT = "import", "Imported"
    # Created by resolution from a metadata provider because a release named it.
    PROVIDER = "provider", "From a release (metadata provider)"
    # Added by the admin from the UI ("Add series", the review queue, the Codex page).
    ADDED = "added", "Added by the admin"


# Sort column → short name for index names. Matches `feed.queries.SORTS`.
SORT_COLUMNS = {
    "last_release_at": "last_rel",
    "first_seen_at": "first_seen",
    "highest_volume": "hi_vol",
    "highest_chapter": "hi_ch",
    "sort_title": "title",
}
# Columns the feed filters on with `=` (hasReleases=false is `release_count = 0`).
EQUALITY_FILTERS = {"kind": "kind", "status": "status", "release_count": "rels"}


class Series(models.Model):
    canonical_title = models.CharField(max_length=500)
    alternate_titles = models.JSONField(default=list, blank=True)
    native_title = models.CharField(max_length=500, blank=True, default="")
    romanized_title = models.CharField(max_length=500, blank=True, default="")
    # Lower-cased, accent-folded canonical + alternate titles: what `q` searches.
    search_text = models.TextField(blank=True, default="", editable=False)
    # Lower-cased canonical title: what "sort by title" orders on.
    sort_title = models.CharField(max_length=500, blank=True, default="", editable=False)
    cover_url = models.URLField(max_length=1000, blank=True, default="")
    kind = models.CharField(max_length=16, choices=SeriesKind.choices, default=SeriesKind.MANGA)
    status = models.CharField(
        max_length=16, choices=SeriesStatus.choices, default=SeriesStatus.UNKNOWN
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    genres = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    published_start = models.DateField(null=True, blank=True)
    published_end = models.DateField(null=True, blank=True)
    rating = models.FloatField(null=True, blank=True, help_text="0–10, from the metadata provider.")
    total_volumes = models.PositiveIntegerField(null=True, blank=True)
    total_chapters = models.PositiveIntegerField(null=True, blank=True)

    first_seen_at = models.DateTimeField(default=timezone.now)
    last_release_at = models.DateTimeField(null=True, blank=True)
    # Moves only when merged coverage changes: the `/series/feed` cursor orders on it.
    updated_at = models.DateTimeField(default=timezone.now)

    # Derived from the releases linked to the series (see feed/coverage.py);
    # stored so list pages sort and filter on plain indexed columns.
    volume_coverage = models.JSONField(default=list, blank=True)
    chapter_coverage = models.JSONField(default=list, blank=True)
    highest_volume = models.FloatField(null=True, blank=True)
    highest_chapter = models.FloatField(null=True, blank=True)
    release_count = models.PositiveIntegerField(default=0)

    ignore_completion = models.BooleanField(
        default=False, help_text="Mute Codex completion tracking for this series."
    )

    origin = models.CharField(
        max_length=16, choices=SeriesOrigin.choices, default=SeriesOrigin.IMPORT
    )
    # Which provider's record filled the metadata, and its content hash: a
    # refresh rewrites the series only when the record moved.
    metadata_provider = models.CharField(max_length=32, blank=True, default="")
    metadata_hash = models.CharField(max_length=80, blank=True, default="")
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    metadata_locked = models.BooleanField(
        default=False,
        help_text="Edited by hand: metadata refreshes leave this series alone.",
    )

    class Meta:
        verbose_name_plural = "series"
        indexes = [
            # Feed default sort: last release, newest first (id breaks ties).
            models.Index(fields=["last_release_at", "id"], name="series_last_release_idx"),
            models.Index(fields=["first_seen_at", "id"], name="series_first_seen_idx"),
            models.Index(fields=["highest_volume", "id"], name="series_highest_volume_idx"),
            models.Index(fields=["highest_chapter", "id"], name="series_highest_chapter_idx"),
            models.Index(fields=["sort_title", "id"], name="series_sort_title_idx"),
            # Every equality filter × every sort: the filter's rows already in the
            # sort's order, so a page reads 50 index entries instead of sorting
            # all of the filter's rows (`make bench` prints each plan).
            *(
                models.Index(fields=[column, sort, "id"], name=f"series_{name}_{short}_idx")
                for column, name in EQUALITY_FILTERS.items()
                for sort, short in SORT_COLUMNS.items()
            ),
            # ... and in id order: the rest of the "when followed" sort after the
            # followed series (`follows.queries.followed_first`) walks it too.
            *(
                models.Index(fields=[column, "id"], name=f"series_{name}_id_idx")
                for column, name in EQUALITY_FILTERS.items()
            ),
            # Totals: each filter's COUNT with the default `scope` condition
            # (release_count, origin) read from the index alone, never the table.
            models.Index(fields=["release_count", "origin"], name="series_scope_idx"),
            models.Index(fields=["kind", "release_count", "origin"], name="series_kind_scope_idx"),
            models.Index(
                fields=["status", "release_count", "origin"], name="series_status_scope_idx"
            ),
            # `/series/feed` keyset pagination on (updated_at, id).
            models.Index(fields=["updated_at", "id"], name="series_updated_idx"),
            # Scheduled metadata refresh: this provider's series, oldest fetch first.
            models.Index(
                fields=["metadata_provider", "metadata_fetched_at"], name="series_metadata_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.canonical_title

    def save(self, *args, **kwargs):
        from feed.search import search_text_for, sort_title_for

        self.search_text = search_text_for(self.canonical_title, self.alternate_titles)
        self.sort_title = sort_title_for(self.canonical_title)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"canonical_title", "alternate_titles"} & set(
            update_fields
        ):
            kwargs["update_fields"] = {*update_fields, "search_text", "sort_title"}
        super().save(*args, **kwargs)


class ExternalId(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="external_ids")
    provider = models.CharField(max_length=32, choices=Provider.choices)
    # Stored verbatim as strings: providers use numbers, slugs and UUIDs.
    external_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="external_id_unique_in_catalog"
            ),
            models.UniqueConstraint(
                fields=["series", "provider"], name="one_external_id_per_provider"
            ),
        ]
        indexes = [
            # Lookups compare ids case-folded (`Lower(external_id) IN (...)` per
            # provider: resolution, the catalog's cross-id matching); without
            # this expression index each one scans the whole table.
            models.Index("provider", Lower("external_id"), name="external_id_folded_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id}"


class Resolution(models.TextChoices):
    UNRESOLVED = "unresolved", "Unresolved"
    REVIEW_PENDING = "review_pending", "Review pending"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


class MatchMethod(models.TextChoices):
    NONE = "", "None"
    PROVIDER_LINK = "provider_link", "Provider link"
    # A link whose id was not in the catalog, looked up at the metadata provider.
    PROVIDER_LOOKUP = "provider_lookup", "Provider lookup"
    FUZZY_TITLE = "fuzzy_title", "Fuzzy title"
    # The title matched a series the metadata provider knows (created if new).
    PROVIDER_TITLE = "provider_title", "Provider title"
    MANUAL = "manual", "Manual"


class Release(models.Model):
    """One upstream post. Re-polling updates source fields, never the resolution."""

    source_kind = models.CharField(max_length=16, default="nyaa")
    # Nyaa: the digits at the end of the post URL.
    external_id = models.CharField(max_length=64)
    source_name = models.CharField(max_length=100)
    title = models.TextField()
    post_url = models.URLField(max_length=1000, blank=True, default="")
    torrent_url = models.URLField(max_length=1000, blank=True, default="")
    magnet = models.TextField(blank=True, default="")
    info_hash = models.CharField(max_length=40, blank=True, default="")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(blank=True, default="")
    posted_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField(default=timezone.now)

    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="releases"
    )
    resolution = models.CharField(
        max_length=16, choices=Resolution.choices, default=Resolution.UNRESOLVED
    )
    match_method = models.CharField(
        max_length=16, choices=MatchMethod.choices, blank=True, default=""
    )
    confidence = models.FloatField(null=True, blank=True)
    # Review queue suggestions: [{"seriesId": int, "title": str, "score": float}].
    candidates = models.JSONField(default=list, blank=True)
    volume_spans = models.JSONField(default=list, blank=True)
    chapter_spans = models.JSONField(default=list, blank=True)

    # Quality as the RSS last reported it (refreshed on every re-poll): a dead
    # torrent and a well-seeded trusted one must not look alike.
    seeders = models.PositiveIntegerField(null=True, blank=True)
    leechers = models.PositiveIntegerField(null=True, blank=True)
    downloads = models.PositiveIntegerField(null=True, blank=True)
    trusted = models.BooleanField(default=False)
    remake = models.BooleanField(default=False)

    # Read once from the post's detail page (feed/enrichment.py). Until then
    # `detail_fetched_at` is empty and the release is as the RSS gave it.
    files = models.JSONField(default=list, blank=True)  # [{"name": str, "size_bytes": int|None}]
    formats = models.JSONField(default=list, blank=True)  # ["cbz", "epub", ...]
    information_url = models.URLField(max_length=1000, blank=True, default="")
    detail_description = models.TextField(blank=True, default="")
    comment_links = models.JSONField(default=list, blank=True)  # hints only, never matched on
    detail_fetched_at = models.DateTimeField(null=True, blank=True)
    detail_attempts = models.PositiveSmallIntegerField(default=0)
    detail_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_kind", "external_id"], name="release_unique_upstream_post"
            ),
        ]
        indexes = [
            # Series detail: its releases, newest first.
            models.Index(fields=["series", "posted_at"], name="release_series_posted_idx"),
            # Review queue and the admin release list filtered by resolution.
            models.Index(fields=["resolution", "observed_at"], name="release_resolution_idx"),
            # Enrichment: releases whose detail page is still to be read.
            models.Index(
                fields=["detail_fetched_at", "detail_attempts"], name="release_detail_todo_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def link_text(self) -> str:
        """Every uploader-written text that may carry provider links, for resolution.

        The RSS summary, the detail page's Information link and its
        description; comments are left out (anyone may write one).
        """
        parts = (self.description, self.information_url, self.detail_description)
        return "\n".join(part for part in parts if part)


class SourceState(models.Model):
    """What happened the last time a configured source was polled."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, default="nyaa")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_summary = models.JSONField(default=dict, blank=True)
    # Summaries of the most recent runs, newest first (`RUN_HISTORY_LENGTH` of them).
    history = models.JSONField(default=list, blank=True)
    # A poll, backfill or search queued or running ("" when idle), claimed with
    # a conditional UPDATE so two clicks never run two walks of one source.
    running_action = models.CharField(max_length=16, blank=True, default="")
    running_since = models.DateTimeField(null=True, blank=True)
    # What the running one has done so far: {"pages_done", "pages_total", "new", ...}.
    progress = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name
