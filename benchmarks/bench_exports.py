"""Export benchmark: wall time and peak memory of a series export in each format.

Exports read plain row tuples in batches of 2,000 (`exports.rows`) and write
each batch straight to the file, so peak memory should depend on the batch
size, not on the catalog. Issue 12's target is at most 4 s per format for the
100,000-series catalog, printed beside each full export's time. To show it,
each format is exported twice: with a tenth of the catalog, then with all of
it; the two peaks should be about the same ("flat") while time grows linearly.

Each export runs through the real job path (`exports.jobs.run_export`) as the
admin with every field selected (ownership columns and external ids included),
three times untraced for the wall time (the median, with the fastest and
slowest run beside it), once under `tracemalloc` for the peak of Python
allocations. Everything the benchmark changes in the database (the
tenth's marking, any synthetic series it adds) happens in a transaction that
is rolled back at the end, and files go to a temporary directory, so the
catalog is left as it was.

    python -m benchmarks.bench_exports [series_count]   # standalone, throwaway SQLite
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FORMATS = ("json", "csv", "markdown")
BATCH_SIZE = 5000
# A tenth of the catalog is the baseline the full-size peak is compared with;
# it is selected with the feed's own kind filter, like any scoped export.
BASELINE_FRACTION = 10
BASELINE_KIND = "other"
# Peaks within this factor of the baseline count as flat; streaming stays near
# 1×, while a file built in memory would grow with the ten times larger catalog.
FLAT_FACTOR = 1.5
# Issue 12: an export of 100,000 series with every field, per format.
TARGET_SECONDS = 4.0
# Each export's time is the median of this many runs: one run on a shared
# machine moved by a third from one minute to the next.
TIMED_RUNS = 3


@dataclass(frozen=True)
class Measurement:
    export_format: str
    rows: int
    seconds: float  # the median of the timed runs
    peak_bytes: int
    file_bytes: int
    spread: tuple[float, float]  # the fastest and slowest timed run


def _seed(start: int, stop: int) -> None:
    """Add series `start`…`stop - 1`: every one with an external id, every third on Codex."""
    from codex_sync.models import CodexLink
    from codex_sync.status import refresh_link_status
    from feed.models import ExternalId, Series
    from feed.search import search_text_for, sort_title_for

    base = datetime(2024, 1, 1, tzinfo=UTC)
    for batch_start in range(start, stop, BATCH_SIZE):
        numbers = range(batch_start, min(stop, batch_start + BATCH_SIZE))
        series = []
        for number in numbers:
            title = f'Benchmark Series {number:06d}, Vol. "{number % 97}"'
            alternates = [f"ベンチ {number}", f"Alt | {number}"]
            series.append(
                Series(
                    canonical_title=title,
                    alternate_titles=alternates,
                    search_text=search_text_for(title, alternates),
                    sort_title=sort_title_for(title),
                    kind=("manga", "manhwa", "novel")[number % 3],
                    status=("ongoing", "completed", "hiatus")[number % 3],
                    year=1980 + number % 45,
                    description=f"A synthetic series, number {number}.\n\nSecond paragraph.",
                    genres=["Action", "Drama"] if number % 2 else ["Slice of life"],
                    total_volumes=number % 40 or None,
                    highest_volume=float(number % 40) or None,
                    highest_chapter=(number % 300) + 0.5,
                    volume_coverage=[[1, number % 40 or 1]],
                    chapter_coverage=[[1, (number % 300) + 0.5]],
                    release_count=number % 7,
                    first_seen_at=base + timedelta(minutes=number),
                    last_release_at=base + timedelta(minutes=2 * number),
                    updated_at=base + timedelta(minutes=number),
                )
            )
        created = Series.objects.bulk_create(series)
        ExternalId.objects.bulk_create(
            ExternalId(series=item, provider="anilist", external_id=str(item.pk))
            for item in created
        )
        CodexLink.objects.bulk_create(
            CodexLink(
                series=item,
                codex_series_uuid=uuid.uuid4(),
                local_max_volume=max(0, int(item.highest_volume or 0) - item.pk % 2),
                volumes_owned=int(item.highest_volume or 0),
            )
            for item in created[::3]
        )
        refresh_link_status()  # bulk_create skips save(): store statuses as a sweep does


def _mark_baseline_tenth() -> None:
    """Make every tenth series (by id) the only `other`-kind series: a filter for a tenth.

    Run inside the benchmark's rolled-back transaction, so the catalog keeps its kinds.
    """
    from django.db.models import F

    from feed.models import Series

    every_tenth = Series.objects.alias(remainder=F("id") % BASELINE_FRACTION)
    every_tenth.filter(remainder=0).update(kind=BASELINE_KIND)
    every_tenth.exclude(remainder=0).filter(kind=BASELINE_KIND).update(kind="manga")


def _export(export_format: str, filters: dict[str, str], traced: bool) -> Measurement:
    from exports import jobs
    from exports.fields import resolve_fields
    from exports.models import ExportJob

    job = ExportJob.objects.create(
        by_admin_token=True,
        export_type="series",
        export_format=export_format,
        # Every field the admin may export: what "Select all" sends.
        fields=resolve_fields("series", None, is_admin=True).keys,
        filters=filters,
    )
    if traced:
        # Start from a clean heap, so garbage left by earlier work is not charged here.
        gc.collect()
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    outcome = jobs.run_export(job.pk)
    seconds = time.perf_counter() - started
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
    if outcome != "completed":
        raise RuntimeError(f"export {job.pk} ended {outcome}: {ExportJob.objects.get(pk=job.pk)}")
    job.refresh_from_db()
    jobs.delete_export(job)
    return Measurement(
        export_format, job.row_count, seconds, peak, job.file_size, spread=(seconds, seconds)
    )


def _measure(export_format: str, filters: dict[str, str]) -> Measurement:
    """The median of `TIMED_RUNS` untraced exports, and the peak of one traced export."""
    timed = [_export(export_format, filters, traced=False) for _ in range(TIMED_RUNS)]
    traced = _export(export_format, filters, traced=True)
    seconds = [measurement.seconds for measurement in timed]
    return Measurement(
        export_format,
        timed[0].rows,
        statistics.median(seconds),
        traced.peak_bytes,
        timed[0].file_bytes,
        spread=(min(seconds), max(seconds)),
    )


def _line(measurement: Measurement, target: str = "") -> str:
    rate = measurement.rows / max(measurement.seconds, 1e-9)
    fastest, slowest = measurement.spread
    return (
        f"  {measurement.export_format:<8} {measurement.rows:>9,} rows "
        f"{measurement.seconds:7.2f} s ({fastest:.2f}–{slowest:.2f}) {rate:>9,.0f} rows/s  "
        f"peak {_mib(measurement.peak_bytes):>9}  file {_mib(measurement.file_bytes)}{target}"
    )


def _target(measurement: Measurement) -> str:
    verdict = "met" if measurement.seconds <= TARGET_SECONDS else "MISSED"
    return f"  (target ≤ {TARGET_SECONDS:g} s: {verdict})"


def _load_average() -> str:
    # On a shared machine the figures mean little without how busy it was.
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def run(series_count: int) -> list[str]:
    """Export the catalog (at least `series_count` series) and a tenth of it, in each format.

    Uses the catalog already in the database (`make bench` seeds one), adding
    synthetic series only if it holds fewer than `series_count`.
    """
    from django.db import transaction
    from django.test.utils import override_settings

    # Import the export path (and django-q behind it) now, not inside the first timing.
    import exports.jobs  # noqa: F401
    from feed.models import Series

    lines = []
    with (
        tempfile.TemporaryDirectory(prefix="tsundoku-bench-exports-") as data_dir,
        override_settings(DATA_DIR=data_dir),
        transaction.atomic(),
    ):
        existing = Series.objects.count()
        if existing < series_count:
            _seed(existing, series_count)
        _mark_baseline_tenth()
        lines.append(
            f"exports: series, every field, as admin; a tenth of the catalog vs all of it "
            f"(time = median of {TIMED_RUNS} runs, fastest–slowest beside it; "
            f"peak = Python allocations under tracemalloc; {FLAT_FACTOR}× counts as flat); "
            f"load average {_load_average()}"
        )
        for export_format in FORMATS:
            tenth = _measure(export_format, {"kind": BASELINE_KIND})
            whole = _measure(export_format, {})
            ratio = whole.peak_bytes / max(1, tenth.peak_bytes)
            verdict = "flat" if ratio <= FLAT_FACTOR else "GROWS"
            lines += [_line(tenth), _line(whole, _target(whole))]
            lines.append(
                f"  {export_format:<8} peak ×{ratio:.2f} for "
                f"{whole.rows / max(1, tenth.rows):.0f}× the rows: {verdict}"
            )
        transaction.set_rollback(True)
    return lines


def _standalone(series_count: int) -> None:
    """Run against a throwaway SQLite database in a temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="tsundoku-bench-") as data_dir:
        os.environ["TSUNDOKU_STORAGE__DATA_DIR"] = data_dir
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsundoku.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        print("\n".join(run(series_count)))


if __name__ == "__main__":
    _standalone(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
