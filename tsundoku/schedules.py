"""Idempotent django-q2 CRON schedules, applied by the `setup_schedules` command.

Each app describes the schedules it wants as `ScheduleSpec`s; `apply_schedules`
makes the `Schedule` table match them for one name prefix, so running it on
every boot is safe. django-q2 pitfalls handled here: `Schedule.name` is not
unique (duplicates are removed), and `next_run` is only recomputed by the
scheduler after a run, so a changed cron must recompute it here or the old
timetable fires once more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class ScheduleSpec:
    """One CRON schedule: a unique name, the task's dotted path, its args, the cron."""

    name: str
    func: str
    args: tuple
    cron: str


def apply_schedules(specs: list[ScheduleSpec], prefix: str) -> dict[str, int]:
    """Create, update and remove the `Schedule` rows named `prefix…` to match `specs`.

    Rows under `prefix` that no spec names are removed, as are duplicate rows
    of one name. Returns `{"created", "updated", "removed", "unchanged"}` counts.
    """
    wanted: dict[str, ScheduleSpec] = {}
    for spec in specs:
        if not spec.name.startswith(prefix):
            raise ValueError(f"schedule {spec.name!r} does not start with {prefix!r}")
        if spec.name in wanted:
            raise ValueError(f"schedule {spec.name!r} is specified twice")
        wanted[spec.name] = spec

    counts = {"created": 0, "updated": 0, "removed": 0, "unchanged": 0}
    with transaction.atomic():
        rows_by_name: dict[str, list[Schedule]] = defaultdict(list)
        for row in Schedule.objects.filter(name__startswith=prefix).order_by("id"):
            rows_by_name[row.name].append(row)

        stale_ids = [
            row.id for name, rows in rows_by_name.items() for row in rows if name not in wanted
        ]
        for name, rows in rows_by_name.items():
            if name in wanted:
                stale_ids.extend(row.id for row in rows[1:])  # keep the oldest of duplicates
        counts["removed"] = Schedule.objects.filter(id__in=stale_ids).delete()[0]

        for name, spec in wanted.items():
            rows = rows_by_name.get(name)
            if not rows:
                Schedule.objects.create(name=name, next_run=next_run(spec.cron), **_fields(spec))
                counts["created"] += 1
            elif _update(rows[0], spec):
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


def next_run(cron: str, *, after: datetime | None = None) -> datetime:
    """The next time `cron` fires after `after` (default: now), timezone-aware."""
    return croniter(cron, timezone.localtime(after or timezone.now())).get_next(datetime)


def _fields(spec: ScheduleSpec) -> dict:
    return {
        "func": spec.func,
        # django-q2 reads `args` back with ast.literal_eval.
        "args": repr(tuple(spec.args)) if spec.args else None,
        "kwargs": None,
        "schedule_type": Schedule.CRON,
        "cron": spec.cron,
        "repeats": -1,
    }


def _update(row: Schedule, spec: ScheduleSpec) -> bool:
    """Bring one row in line with its spec; return whether anything changed."""
    fields = _fields(spec)
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    if not changed:
        return False
    if {"cron", "schedule_type"} & set(changed):
        row.next_run = next_run(spec.cron)
        changed.append("next_run")
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=changed)
    return True
