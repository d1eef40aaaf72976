"""Sampling periods: ISO weeks ``2026-W47``, months ``2026-11`` and days ``2026-11-23``, in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
MIN_YEAR, MAX_YEAR = 1970, 9998


class PeriodError(ValueError):
    """The text is not a period this module understands."""


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of UTC time with its canonical label."""

    label: str
    kind: str  # "week", "month" or "day"
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def week_of(day: date) -> Period:
    """The ISO week (Monday to Monday) that contains ``day``."""
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    return Period(
        f"{year}-W{week:02d}", "week", _midnight(monday), _midnight(monday + timedelta(7))
    )


def current_week(now: datetime | None = None) -> Period:
    """The ISO week of ``now`` (default: the current time) in UTC."""
    return week_of((now or datetime.now(UTC)).astimezone(UTC).date())


def parse_period(text: str) -> Period:
    """Read ``YYYY-Www`` (ISO week), ``YYYY-MM`` (month) or ``YYYY-MM-DD`` (day)."""
    value = (text or "").strip()
    year_match = re.match(r"^(\d{4})", value)
    if year_match and not MIN_YEAR <= int(year_match[1]) <= MAX_YEAR:
        raise PeriodError(f"{value!r}: the year must be from {MIN_YEAR} to {MAX_YEAR}.")
    if match := _WEEK.match(value):
        year, week = int(match[1]), int(match[2])
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(f"{value!r}: {year} has no ISO week {week}.") from None
        return week_of(monday)
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"{value!r}: there is no month {month}.")
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return Period(f"{year:04d}-{month:02d}", "month", _midnight(first), _midnight(following))
    if match := _DAY.match(value):
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as error:
            raise PeriodError(f"{value!r}: {error}.") from None
        return Period(day.isoformat(), "day", _midnight(day), _midnight(day + timedelta(1)))
    raise PeriodError(
        f"{value!r} is not a period; use an ISO week (2026-W47), a month (2026-11) "
        "or a day (2026-11-23)."
    )
