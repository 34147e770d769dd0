"""Fill the catalog with synthetic series and releases, fast, for benchmarks and demos.

`manage.py seed_synthetic --series 100000 --releases 500000` builds a catalog
the size of a busy install in about a minute on SQLite. Rows go in with one
`executemany` per table for each block of 5,000 series and their releases,
one transaction per block; each series' coverage, highest numbers, release
count and last release are computed while its releases are generated, so
nothing needs recomputing afterwards.

External ids follow the one synthetic-id scheme (`devtools.synthetic`), so a
synthetic Codex library matches them without reading the catalog. Series
number k (1-based) carries:
- MangaBaka `str(100000 + k)`, always;
- AniList `str(200000 + k)` when k is a multiple of 3;
- MyAnimeList `str(300000 + k)` when k is a multiple of 4.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max, Model
from django.utils import timezone

from devtools.synthetic import CATALOG_PROVIDERS, MANGABAKA_BASE, scheme_ids
from feed.coverage import derived_values
from feed.models import (
    ExternalId,
    MatchMethod,
    Provider,
    Release,
    Resolution,
    Series,
    SeriesKind,
    SeriesStatus,
)
from feed.search import search_text_for, sort_title_for
from feed.sources.nyaa import magnet_link
from feed.spans import Span, spans_to_json

SOURCE_KIND = "synthetic"
REVIEW_SCORE = 0.7  # the fuzzy score synthetic review-queue releases pretend to have
BLOCK_SIZE = 5000  # series per transaction; their releases go in the same one
INSERT_BATCH = 5000  # rows per `executemany` call


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(","))


# Words for titles. None is a volume or chapter marker ("v", "Vol", "Ch"), so
# a generated title never carries spans of its own.
_ROMAJI_NOUNS = _words(
    "Hoshi, Sora, Yume, Tsuki, Hana, Kaze, Yoru, Umi, Mori, Yuki, Sakura, Kokoro, Mirai, "
    "Hikari, Kage, Tori, Neko, Inu, Ame, Niji, Tsubasa, Kagami, Shiro, Mizu, Honoo, Tabi, "
    "Uta, Koe, Michi, Sekai, Gakuen, Kishi, Majo, Oujo, Yuusha, Maou, Ryuu, Kitsune, "
    "Tenshi, Akuma, Sensei, Kanojo, Kareshi, Tomodachi, Senpai"
)
_ROMAJI_LINKS = ("no", "to", "wa", "ni", "de")
_ROMAJI_ENDINGS = _words(
    "Monogatari, Nikki, Seikatsu, Tensei, Kiroku, Densetsu, Shoujo, Shounen, Gurashi, "
    "Hanashi, Kagi, Tachi, Sanpo, Jikan, Ryokou"
)
_ENGLISH_ADJECTIVES = _words(
    "Silent, Eternal, Crimson, Hidden, Broken, Golden, Lonely, Forgotten, Endless, "
    "Wandering, Gentle, Reincarnated, Cursed, Sleeping, Last, First, Little, Midnight, "
    "Frozen, Burning, Distant, Secret, Reluctant, Unlikely, Quiet, Hungry, Lucky, Fallen, "
    "Rising, Shattered"
)
_ENGLISH_NOUNS = _words(
    "Knight, Witch, Garden, Dragon, Academy, Tower, Sword, Princess, Hero, Villainess, "
    "Moon, Star, Ocean, Blade, Shadow, Heart, Dream, Kingdom, Empire, Library, Cafe, "
    "Detective, Alchemist, Healer, Archer, Demon, Lord, Saint, Maid, Butler, Chef, "
    "Blacksmith, Merchant, Summer, Winter, Spring, Autumn, Night, Festival, Journey, "
    "Letter, Promise, Melody, Orchard, Lighthouse, Bakery"
)
_ENGLISH_PATTERNS = (
    "The {adjective} {noun}",
    "{adjective} {noun}",
    "The {noun} of the {adjective} {other}",
    "My {noun} Is a {adjective} {other}",
    "How to Raise a {adjective} {noun}",
    "The {adjective} {noun} and the {other}",
    "I Became the {noun}'s {other}",
    "{noun} in the {adjective} {other}",
)
_GROUPS = ("Doki", "Lazy Lily", "MTBBooks", "Danke-Empire", "1r0n", "LuCaZ", "Oak", "Stick")
_GENRES = _words(
    "Action, Adventure, Comedy, Drama, Fantasy, Horror, Mystery, Romance, Sci-Fi, "
    "Slice of Life, Sports, Supernatural, Thriller, Isekai, Mecha, Music, Psychological, "
    "Historical, School Life"
)
_KINDS = [
    (SeriesKind.MANGA, 60),
    (SeriesKind.MANHWA, 15),
    (SeriesKind.MANHUA, 8),
    (SeriesKind.NOVEL, 10),
    (SeriesKind.ONE_SHOT, 3),
    (SeriesKind.OEL, 2),
    (SeriesKind.OTHER, 2),
]
_STATUSES = [
    (SeriesStatus.ONGOING, 45),
    (SeriesStatus.COMPLETED, 35),
    (SeriesStatus.HIATUS, 8),
    (SeriesStatus.CANCELLED, 4),
    (SeriesStatus.UNKNOWN, 8),
]
_HISTORY_DAYS = 3 * 365  # synthetic first-seen dates spread over the last three years


@dataclass
class _Coverage:
    """Running coverage of one series: the spans and dates of its resolved releases."""

    volumes: list[Span] = field(default_factory=list)
    chapters: list[Span] = field(default_factory=list)
    count: int = 0
    last_release_at: datetime | None = None

    def add(self, volumes: list[Span], chapters: list[Span], posted_at: datetime) -> None:
        self.volumes.extend(volumes)
        self.chapters.extend(chapters)
        self.count += 1
        self.last_release_at = posted_at


class Command(BaseCommand):
    help = (
        "Create N synthetic series and M releases (bulk inserts, coverage precomputed). "
        "Series k gets MangaBaka id 100000+k, AniList 200000+k when k%3==0, MAL 300000+k "
        "when k%4==0, to match a synthetic Codex library."
    )

    def add_arguments(self, parser):
        parser.add_argument("--series", type=int, required=True, metavar="N")
        parser.add_argument("--releases", type=int, required=True, metavar="M")
        parser.add_argument("--seed", type=int, default=1, metavar="S", help="Random seed (1).")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Delete the whole catalog (every series, external id and release) first.",
        )

    def handle(self, *args, series: int, releases: int, seed: int, clear: bool, **options):
        if series < 0 or releases < 0:
            raise CommandError("--series and --releases must be 0 or more")
        if releases and not series:
            raise CommandError("releases need series: give --series 1 or more")
        started = time.perf_counter()
        _enlarge_sqlite_cache()
        if clear:
            removed = _clear_catalog()
            self.stdout.write(f"Cleared {removed} catalog rows.")
        else:
            _refuse_to_collide(series)

        last_series_id = Series.objects.aggregate(last=Max("id"))["last"] or 0
        generator = _Generator(random.Random(seed), timezone.now(), last_series_id)
        counts = generator.release_counts(series, releases)
        totals = {"series": 0, "external_ids": 0, "releases": 0}
        for first in range(1, series + 1, BLOCK_SIZE):
            block = range(first, min(first + BLOCK_SIZE, series + 1))
            with transaction.atomic():
                written = generator.write_block(block, counts)
            for key, value in written.items():
                totals[key] += value
            if options["verbosity"] >= 2:
                self.stdout.write(f"  series {block.start}–{block.stop - 1} written")

        _reset_id_sequences()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {totals['series']} series, {totals['external_ids']} external ids and "
                f"{totals['releases']} releases in {elapsed:.1f}s."
            )
        )


def _enlarge_sqlite_cache() -> None:
    # SQLite's default page cache is 2 MB; once the tables and their indexes
    # outgrow it every insert re-reads index pages. 256 MB keeps them in memory
    # for this connection only.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")


def _reset_id_sequences() -> None:
    # Series were inserted with explicit ids; PostgreSQL's sequence must catch
    # up (SQLite's AUTOINCREMENT already has).
    statements = connection.ops.sequence_reset_sql(no_style(), [Series])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _clear_catalog() -> int:
    # Releases first: deleting series would otherwise null out each one's FK.
    removed = Release.objects.all().delete()[0]
    removed += ExternalId.objects.all().delete()[0]
    return removed + Series.objects.all().delete()[0]


def _refuse_to_collide(series: int) -> None:
    first_id = str(MANGABAKA_BASE + 1)
    taken = ExternalId.objects.filter(provider=Provider.MANGABAKA, external_id=first_id).exists()
    if taken or (series and Release.objects.filter(source_kind=SOURCE_KIND).exists()):
        raise CommandError(
            "synthetic data is already in the catalog (MangaBaka id "
            f"{first_id} or synthetic releases exist); run again with --clear to replace it"
        )


class _Generator:
    """Deterministic synthetic rows for a given seed."""

    def __init__(self, rnd: random.Random, now: datetime, last_series_id: int) -> None:
        self.rnd = rnd
        self.now = now
        self.used_titles: set[str] = set()
        # Series ids are assigned here rather than returned by the INSERT, so
        # their releases can reference them and one `executemany` writes a block.
        self.last_series_id = last_series_id
        self.next_release_id = 1

    def release_counts(self, series: int, releases: int) -> list[int]:
        """Releases per series (index k): a long tail, as on a real tracker."""
        counts = [0] * (series + 1)
        if not series:
            return counts
        weights = [self.rnd.paretovariate(1.2) for _ in range(series)]
        for k in self.rnd.choices(range(1, series + 1), weights=weights, k=releases):
            counts[k] += 1
        return counts

    def write_block(self, block: range, counts: list[int]) -> dict[str, int]:
        """Insert one block of series with their external ids and releases."""
        series_rows: list[dict] = []
        external_ids: list[dict] = []
        release_rows: list[dict] = []
        for k in block:
            row = self._series(k)
            plan = self._release_plan(row, counts[k])
            coverage = _Coverage()
            for release in plan:
                if release["resolution"] == Resolution.RESOLVED:
                    coverage.add(release["volumes"], release["chapters"], release["posted_at"])
            _apply_coverage(row, coverage)
            series_rows.append(row)
            external_ids.extend(
                {"series_id": row["id"], "provider": provider, "external_id": external_id}
                for provider, external_id in scheme_ids(k, CATALOG_PROVIDERS)
            )
            release_rows.extend(self._release(row, k, release) for release in plan)
        insert_rows(Series, series_rows)
        insert_rows(ExternalId, external_ids)
        insert_rows(Release, release_rows)
        return {
            "series": len(series_rows),
            "external_ids": len(external_ids),
            "releases": len(release_rows),
        }

    def _series(self, k: int) -> dict:
        rnd = self.rnd
        romaji, english = self._title(self._romaji_title), self._title(self._english_title)
        canonical, alternate = (romaji, english) if rnd.random() < 0.5 else (english, romaji)
        alternate_titles = [alternate] if rnd.random() < 0.7 else []
        kind = _weighted(rnd, _KINDS)
        status = _weighted(rnd, _STATUSES)
        year = min(2026, 1975 + int(51 * rnd.random() ** 0.5))
        total_volumes = rnd.randint(1, 40) if status == SeriesStatus.COMPLETED else None
        first_seen_at = self.now - timedelta(days=_HISTORY_DAYS * rnd.random())
        genres = rnd.sample(_GENRES, rnd.randint(1, 4))
        self.last_series_id += 1
        return {
            "id": self.last_series_id,
            "canonical_title": canonical,
            "alternate_titles": alternate_titles,
            "search_text": search_text_for(canonical, alternate_titles),
            "sort_title": sort_title_for(canonical),
            "cover_url": "",
            "kind": str(kind),
            "status": str(status),
            "year": year,
            "description": (
                f"A {status} {kind.replace('_', '-')} about {english.lower()}, "
                f"with {' and '.join(g.lower() for g in genres)}."
            ),
            "genres": genres,
            "total_volumes": total_volumes,
            "total_chapters": total_volumes * 9 if total_volumes else None,
            "first_seen_at": first_seen_at,
            "updated_at": first_seen_at,
            "ignore_completion": False,
        }

    def _release_plan(self, series: dict, count: int) -> list[dict]:
        """What each release of a series carries: spans, date, resolution. Titles come later."""
        rnd = self.rnd
        plan = []
        carries_volumes = series["kind"] in (SeriesKind.NOVEL, SeriesKind.MANGA)
        carries_volumes = carries_volumes and rnd.random() < 0.6
        next_volume, next_chapter = 1, rnd.randint(1, 40)
        first_seen_at = series["first_seen_at"]
        span_days = max((self.now - first_seen_at).total_seconds() / 86400, 1)
        days = sorted(rnd.random() * span_days for _ in range(count))
        for offset_days in days:
            volumes: list[Span] = []
            chapters: list[Span] = []
            if carries_volumes and rnd.random() < 0.8:
                size = rnd.choice((1, 1, 1, 1, 2, 3, 5))
                volumes.append((next_volume, next_volume + size - 1))
                next_volume += size + (1 if rnd.random() < 0.05 else 0)  # the odd gap
            else:
                size = rnd.choice((1, 1, 1, 1, 1, 2, 10))
                chapters.append((next_chapter, next_chapter + size - 1))
                next_chapter += size + (1 if rnd.random() < 0.05 else 0)
            roll = rnd.random()
            if roll < 0.93:
                resolution = Resolution.RESOLVED
            elif roll < 0.97:
                resolution = Resolution.REVIEW_PENDING
            else:
                resolution = Resolution.UNRESOLVED
            plan.append(
                {
                    "volumes": volumes,
                    "chapters": chapters,
                    "posted_at": first_seen_at + timedelta(days=offset_days),
                    "resolution": resolution,
                }
            )
        return plan

    def _release(self, series: dict, k: int, plan: dict) -> dict:
        rnd = self.rnd
        external_id = self.next_release_id
        self.next_release_id += 1
        title = _release_title(rnd, series["canonical_title"], plan["volumes"], plan["chapters"])
        info_hash = f"{rnd.getrandbits(160):040x}"
        linked = plan["resolution"] == Resolution.RESOLVED
        in_review = plan["resolution"] == Resolution.REVIEW_PENDING
        by_link = linked and rnd.random() < 0.1
        if linked:
            method = MatchMethod.PROVIDER_LINK if by_link else MatchMethod.FUZZY_TITLE
            confidence = 1.0 if by_link else round(rnd.uniform(0.85, 1.0), 4)
        else:
            method = MatchMethod.NONE
            confidence = REVIEW_SCORE if in_review else None
        return {
            "source_kind": SOURCE_KIND,
            "external_id": str(external_id),
            "source_name": SOURCE_KIND,
            "title": title,
            "post_url": f"https://synthetic.invalid/view/{external_id}",
            "torrent_url": f"https://synthetic.invalid/download/{external_id}.torrent",
            "magnet": magnet_link(info_hash, title),
            "info_hash": info_hash,
            "size_bytes": rnd.randint(2_000_000, 900_000_000),
            "category": "Literature - English-translated",
            "description": (
                f"Series page: https://mangabaka.dev/{MANGABAKA_BASE + k}" if by_link else ""
            ),
            "posted_at": plan["posted_at"],
            "observed_at": plan["posted_at"],
            "series_id": series["id"] if linked else None,
            "resolution": str(plan["resolution"]),
            "match_method": str(method),
            "confidence": confidence,
            "candidates": (
                [
                    {
                        "seriesId": series["id"],
                        "title": series["canonical_title"],
                        "score": REVIEW_SCORE,
                    }
                ]
                if in_review
                else []
            ),
            "volume_spans": spans_to_json(plan["volumes"]),
            "chapter_spans": spans_to_json(plan["chapters"]),
        }

    def _title(self, make) -> str:
        for _attempt in range(5):
            title = make()
            if title not in self.used_titles:
                break
        else:
            title = f"{title} {self.rnd.choice(('Gaiden', 'Next', 'Origins', 'Reborn', 'Zero'))}"
        self.used_titles.add(title)
        return title

    def _romaji_title(self) -> str:
        rnd = self.rnd
        first, second = rnd.sample(_ROMAJI_NOUNS, 2)
        ending = rnd.choice(_ROMAJI_ENDINGS)
        if rnd.random() < 0.5:
            return f"{first} {rnd.choice(_ROMAJI_LINKS)} {second} {ending}"
        return f"{first} no {ending}"

    def _english_title(self) -> str:
        rnd = self.rnd
        noun, other = rnd.sample(_ENGLISH_NOUNS, 2)
        return rnd.choice(_ENGLISH_PATTERNS).format(
            adjective=rnd.choice(_ENGLISH_ADJECTIVES), noun=noun, other=other
        )


def insert_rows(model: type[Model], rows: list[dict]) -> None:
    """INSERT rows (a value per column, keyed by attname) with `executemany`.

    `bulk_create` spends most of its time compiling SQL value by value; for
    hundreds of thousands of rows that is the whole budget. Values still pass
    through the backend's own adapters where the driver needs them (datetimes,
    JSON), so the rows are exactly what the ORM would write.
    """
    if not rows:
        return
    # Columns the generator leaves out take the model's default, as the ORM would write.
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0] or f.has_default()]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
    database = connections[DEFAULT_DB_ALIAS]  # the real one: the proxy costs per value
    quote = database.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    prepared = [(f.attname, _driver_adapter(f, database)) for f in fields]
    values = [
        tuple(
            prepare(value) if prepare else value
            for name, prepare in prepared
            for value in (row.get(name, defaults.get(name)),)
        )
        for row in rows
    ]
    with database.cursor() as cursor:
        for offset in range(0, len(values), INSERT_BATCH):
            cursor.executemany(sql, values[offset : offset + INSERT_BATCH])


def _driver_adapter(field, database) -> Callable[[Any], Any] | None:
    """How the ORM adapts this field's values for the driver, where it must (else None)."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return database.ops.adapt_datetimefield_value
    if kind == "JSONField":
        return partial(database.ops.adapt_json_value, encoder=field.encoder)
    return None


def _release_title(
    rnd: random.Random, title: str, volumes: list[Span], chapters: list[Span]
) -> str:
    """A Nyaa-style title whose markers parse back to exactly these spans."""
    group = rnd.choice(_GROUPS)
    if volumes:
        start, end = (int(number) for number in volumes[0])
        numbers = f"v{start:02d}" if start == end else f"v{start:02d}-{end:02d}"
        if rnd.random() < 0.5:
            return f"[{group}] {title} {numbers} (Digital).cbz"
        if start == end:
            return f"{title} Vol. {start} ({rnd.randint(2015, 2026)}) (Digital) ({group})"
        return f"{title} {numbers} ({rnd.randint(2015, 2026)}) (Digital) ({group})"
    start, end = (int(number) for number in chapters[0])
    if start == end and rnd.random() < 0.6:
        return f"[{group}] {title} - Chapter {start} [{rnd.getrandbits(32):08X}].zip"
    numbers = f"c{start:03d}" if start == end else f"c{start:03d}-{end:03d}"
    return f"{title} {numbers} (web) [{group}].cbz"


def _apply_coverage(series: dict, coverage: _Coverage) -> None:
    series.update(
        derived_values(
            coverage.volumes, coverage.chapters, coverage.count, coverage.last_release_at
        )
    )
    if coverage.last_release_at:
        series["updated_at"] = coverage.last_release_at


def _weighted(rnd: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rnd.choices(values, weights=weights)[0]
