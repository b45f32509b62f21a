"""Which calls a placement reads, and which period a call belongs to. Pure: "now" is the newest call, never the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Sequence

from service.rubrics.schemas import WindowPolicy
from service.scoring.schemas import Assessment

PeriodKind = Literal["month", "week"]


def when(assessment: Assessment) -> datetime:
    """The call's time; a call that gives none counts from when it was assessed."""
    return assessment.call_time or assessment.created_at


def period_of(moment: datetime, kind: PeriodKind) -> str:
    """'2026-11' for a month, '2026-W48' for an ISO week: strings that sort in time order."""
    if kind == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment.year}-{moment.month:02d}"


def chronological(assessments: Sequence[Assessment]) -> list[Assessment]:
    return sorted(assessments, key=lambda a: (when(a).timestamp(), a.id))


def select_window(assessments: Sequence[Assessment], window: WindowPolicy) -> list[Assessment]:
    """The last ``days`` before the newest call, then the last ``last_calls`` of those (either may be unset)."""
    return trim_window(chronological(assessments), window)


def trim_window(ordered: list[Assessment], window: WindowPolicy) -> list[Assessment]:
    """``select_window`` for calls already in time order."""
    if not ordered:
        return []
    if window.days:
        start = when(ordered[-1]) - timedelta(days=window.days)
        ordered = [a for a in ordered if when(a) > start]
    if window.last_calls:
        ordered = ordered[-window.last_calls:]
    return ordered


@dataclass(frozen=True)
class DateRange:
    """Calls on or after ``since`` and on or before ``until`` (the call's own calendar date); either may be open."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")

    def holds(self, assessment: Assessment) -> bool:
        day = when(assessment).date()
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)


def within(assessments: Sequence[Assessment], dates: DateRange | None) -> list[Assessment]:
    return [a for a in assessments if dates is None or dates.holds(a)]
