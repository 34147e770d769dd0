"""The status rule for a series linked to Codex (SPEC §5.3), written once.

`codex_status` is the rule in Python (badges, exports of single objects);
`codex_status_expression` is the same rule as a database expression (feed
filter, totals, annotations). The hypothesis test in
`tests/test_status_rule.py` proves the two agree on random inputs, nulls and
fractions included. Change one, change both.

    1. ignore_completion → ignored ("tracking off").
    2. An axis is tracked when ours is not null, comparable when Codex's is
       also not null, behind when comparable and Codex's < ours (strict).
    3. Any axis behind → behind; else any comparable → complete; else any
       tracked → present (unverified); else → complete.
`volumes_owned` never affects the status.

`codex_gap` is the gap rule beside it: what has surfaced on an axis beyond
what Codex owns. It reads the same inputs the same way (an axis counts only
when both sides have a number; tracking off means no gap), so a gap is
non-empty exactly when the status is behind; `tests/test_status_rule.py`
proves that too. `surfaced_beyond` is the one clipping step, used for the
series' coverage (the gap) and for each release ("fills vol. 109–111").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Case, CharField, F, Model, OuterRef, Q, Subquery, Value, When
from django.db.models.expressions import Expression

# Series per `series_id IN (...)` statement (see feed.coverage.CHUNK).
REFRESH_CHUNK = 900
# Past this many series, one UPDATE of every link is cheaper than naming them:
# Django prepares each value of an IN list (~16 µs a value), the rule's
# subquery costs ~4 µs a link (90k links: 0.4 s for all, 1.6 s named).
# A first sweep, which writes every link, takes the one statement.
WHOLE_TABLE_FROM = 5_000

# The series' fields the rule reads: a writer of any of them refreshes the
# stored status (`refresh_link_status`) of the series it wrote.
SERIES_INPUTS = frozenset({"highest_volume", "highest_chapter", "ignore_completion"})


class CodexStatus:
    COMPLETE = "complete"
    BEHIND = "behind"
    PRESENT = "present"
    IGNORED = "ignored"

    ALL = (COMPLETE, BEHIND, PRESENT, IGNORED)


def _behind(ours: float | None, theirs: float | None) -> bool:
    return ours is not None and theirs is not None and theirs < ours


def _comparable(ours: float | None, theirs: float | None) -> bool:
    return ours is not None and theirs is not None


def codex_status(
    *,
    highest_volume: float | None,
    highest_chapter: float | None,
    local_max_volume: float | None,
    local_max_chapter: float | None,
    ignore_completion: bool,
) -> str:
    """The status of a linked series (callers handle "not linked": no status)."""
    if ignore_completion:
        return CodexStatus.IGNORED
    if _behind(highest_volume, local_max_volume) or _behind(highest_chapter, local_max_chapter):
        return CodexStatus.BEHIND
    if _comparable(highest_volume, local_max_volume) or _comparable(
        highest_chapter, local_max_chapter
    ):
        return CodexStatus.COMPLETE
    if highest_volume is not None or highest_chapter is not None:
        return CodexStatus.PRESENT
    return CodexStatus.COMPLETE


def codex_status_expression(link: str = "codex_link", series: str = "") -> Expression:
    """The same rule as a database expression; NULL when the series has no link.

    `link` and `series` are the paths from the queried model to each side,
    "" for the model itself: the defaults read a Series queryset,
    `link="", series="series"` a CodexLink queryset (where a link always exists).
    """

    def path(side: str, name: str) -> str:
        return f"{side}__{name}" if side else name

    local_volume = path(link, "local_max_volume")
    local_chapter = path(link, "local_max_chapter")
    highest_volume = path(series, "highest_volume")
    highest_chapter = path(series, "highest_chapter")

    def comparable(ours: str, theirs: str) -> Q:
        return Q(**{f"{ours}__isnull": False, f"{theirs}__isnull": False})

    def behind(ours: str, theirs: str) -> Q:
        return comparable(ours, theirs) & Q(**{f"{theirs}__lt": F(ours)})

    return Case(
        When(**{f"{link or 'pk'}__isnull": True}, then=Value(None)),
        When(**{path(series, "ignore_completion"): True}, then=Value(CodexStatus.IGNORED)),
        When(
            behind(highest_volume, local_volume) | behind(highest_chapter, local_chapter),
            then=Value(CodexStatus.BEHIND),
        ),
        When(
            comparable(highest_volume, local_volume) | comparable(highest_chapter, local_chapter),
            then=Value(CodexStatus.COMPLETE),
        ),
        When(
            Q(**{f"{highest_volume}__isnull": False}) | Q(**{f"{highest_chapter}__isnull": False}),
            then=Value(CodexStatus.PRESENT),
        ),
        default=Value(CodexStatus.COMPLETE),
        output_field=CharField(null=True),
    )


def stored_status_subquery(link_model: type[Model]) -> Subquery:
    """The rule for the link being updated, as `UPDATE link SET status = (this)`.

    A correlated subquery because an UPDATE cannot join: it reads the link's
    own row joined to its series (a primary-key lookup each). `link_model`
    is a parameter so the migration's backfill uses its historical model.
    """
    return Subquery(
        link_model.objects.filter(pk=OuterRef("pk"))
        .annotate(computed=codex_status_expression(link="", series="series"))
        .values("computed")[:1]
    )


def link_status_sql(counts: str) -> tuple[str, list]:
    """The rule as SQL (and its parameters) for a link whose counts are columns of `counts`.

    `counts` names a row source with `local_max_volume` and
    `local_max_chapter` columns; the statement must join the series table
    (by its table name) to it. So a bulk INSERT of links writes each
    link's status with it, compiled from `codex_status_expression` (no
    second pass over the rows, and the rule still written once).
    """
    from django.db import connection
    from django.db.models import FloatField, IntegerField
    from django.db.models.expressions import RawSQL

    from feed.models import Series

    query = (
        Series.objects.annotate(
            local_max_volume=RawSQL(f"{counts}.local_max_volume", (), IntegerField()),
            local_max_chapter=RawSQL(f"{counts}.local_max_chapter", (), FloatField()),
        )
        .annotate(computed=codex_status_expression(link="", series=""))
        .query
    )
    sql, params = query.get_compiler(connection=connection).compile(query.annotations["computed"])
    return sql, list(params)


def refresh_link_status(series_ids: Iterable[int] | None = None) -> int:
    """Store the rule's answer on the links of these series (every link when None).

    One set-based UPDATE per chunk of series, or one for every link when
    many series are named; return how many links were written. Call it
    after anything that changes either side of the rule: a sweep's apply,
    hand-linking, the series' highest volume/chapter
    (`feed.coverage.recompute_coverage`) or `ignore_completion`.
    """
    from codex_sync.models import CodexLink

    status = stored_status_subquery(CodexLink)
    if series_ids is None:
        return CodexLink.objects.update(status=status)
    ids = sorted({int(series_id) for series_id in series_ids if series_id is not None})
    if len(ids) >= WHOLE_TABLE_FROM:
        return CodexLink.objects.update(status=status)
    written = 0
    for offset in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[offset : offset + REFRESH_CHUNK]
        written += CodexLink.objects.filter(series_id__in=chunk).update(status=status)
    return written


def status_of_link(link) -> str:
    """The Python rule for one link and its series (a link saved on its own)."""
    series = link.series
    return codex_status(
        highest_volume=series.highest_volume,
        highest_chapter=series.highest_chapter,
        local_max_volume=link.local_max_volume,
        local_max_chapter=link.local_max_chapter,
        ignore_completion=series.ignore_completion,
    )


Span = tuple[float, float]


@dataclass(frozen=True)
class CodexGap:
    """What has surfaced beyond what Codex owns, per axis, as merged ranges."""

    volumes: tuple[Span, ...] = ()
    chapters: tuple[Span, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.volumes or self.chapters)


NO_GAP = CodexGap()


def surfaced_beyond(
    spans: Iterable[Sequence[float]], owned_up_to: float | None
) -> tuple[Span, ...]:
    """The parts of `spans` above `owned_up_to`, in order; nothing when it is unknown.

    Numbers are whole volumes/chapters with fractional extras (10.5), so a
    clipped range restarts at the next whole number: owning up to 108 of
    [1, 111] leaves 109–111; owning up to 10.5 of [1, 12] leaves 11–12. A
    range that ends on an extra past the last owned number (10.8 of [10,
    10.8] when 10.5 is owned) keeps just that end, so every number greater
    than what Codex owns is in the answer and no owned number is.
    """
    if owned_up_to is None:
        return ()
    next_whole = math.floor(owned_up_to) + 1
    surfaced: list[Span] = []
    # Once per span of every series on an admin page (a long run has hundreds):
    # plain comparisons, and floats made only for the spans kept.
    for raw_start, raw_end in spans:
        if raw_end < raw_start:
            raw_start, raw_end = raw_end, raw_start
        if raw_end <= owned_up_to:
            continue
        start, end = float(raw_start), float(raw_end)
        if start <= owned_up_to:
            start = float(next_whole) if next_whole <= end else end
        surfaced.append((start, end))
    return tuple(surfaced)


def codex_gap(
    *,
    volume_coverage: Iterable[Sequence[float]],
    chapter_coverage: Iterable[Sequence[float]],
    local_max_volume: float | None,
    local_max_chapter: float | None,
    ignore_completion: bool,
) -> CodexGap:
    """What the catalog's coverage shows beyond Codex's counts (admin-only data).

    Empty when tracking is off, and on an axis Codex has no number for (the
    status rule cannot compare it either), so `bool(gap)` is "behind".
    """
    if ignore_completion:
        return NO_GAP
    return CodexGap(
        volumes=surfaced_beyond(volume_coverage, local_max_volume),
        chapters=surfaced_beyond(chapter_coverage, local_max_chapter),
    )
