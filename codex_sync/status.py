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
"""

from __future__ import annotations

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.expressions import Expression


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


def codex_status_expression(link: str = "codex_link") -> Expression:
    """The same rule over a Series queryset; NULL when the series has no link."""
    local_volume = f"{link}__local_max_volume"
    local_chapter = f"{link}__local_max_chapter"

    def comparable(ours: str, theirs: str) -> Q:
        return Q(**{f"{ours}__isnull": False, f"{theirs}__isnull": False})

    def behind(ours: str, theirs: str) -> Q:
        return comparable(ours, theirs) & Q(**{f"{theirs}__lt": F(ours)})

    return Case(
        When(**{f"{link}__isnull": True}, then=Value(None)),
        When(ignore_completion=True, then=Value(CodexStatus.IGNORED)),
        When(
            behind("highest_volume", local_volume) | behind("highest_chapter", local_chapter),
            then=Value(CodexStatus.BEHIND),
        ),
        When(
            comparable("highest_volume", local_volume)
            | comparable("highest_chapter", local_chapter),
            then=Value(CodexStatus.COMPLETE),
        ),
        When(
            Q(highest_volume__isnull=False) | Q(highest_chapter__isnull=False),
            then=Value(CodexStatus.PRESENT),
        ),
        default=Value(CodexStatus.COMPLETE),
        output_field=CharField(null=True),
    )
