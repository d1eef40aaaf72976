"""Strict query-parameter parsing: a bad value is a 400 naming the parameter, never a guess."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from flask import request

from qa_app.api.errors import ApiError
from qa_app.untrusted import MAX_ID

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
# An unencoded "+" in a query string arrives as a space: "...T09:00:00 02:00" means "+02:00".
_SPACE_FOR_PLUS = re.compile(r"(T[\d:.]+) (\d\d(?::?\d\d)?)$")


def _bad(name: str, reason: str) -> ApiError:
    return ApiError(400, f"Query parameter '{name}' {reason}.")


def text_arg(name: str) -> str | None:
    value = request.args.get(name, "").strip()
    return value or None


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise _bad(name, f"must be true or false, got {raw!r}")


def int_arg(
    name: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_ID
) -> int | None:
    """A whole number; at most ``MAX_ID`` by default, the largest id (or page) there can be."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise _bad(name, f"must be a whole number, got {raw!r}")
    if len(digits) > 30:  # int() of thousands of digits is slow, and refused past 4,300
        raise _bad(name, f"must be between {minimum} and {maximum}, got {len(digits)} digits")
    value = int(text)
    if value < minimum:
        raise _bad(name, f"must be at least {minimum}, got {value}")
    if value > maximum:
        raise _bad(name, f"must be at most {maximum}, got {value}")
    return value


def choice_arg(name: str, choices: Sequence[str], default: str | None = None) -> str | None:
    value = text_arg(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise _bad(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value.lower()


def moment_arg(name: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 date-time with offset, or a date meaning midnight UTC.

    With ``end_of_day`` a date means the following midnight, so that an exclusive upper bound
    ``to=2026-10-01`` still covers the whole of that day.
    """
    raw = text_arg(name)
    if raw is None:
        return None
    if len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise _bad(name, f"must be a date (YYYY-MM-DD) or a date-time, got {raw!r}") from None
        if end_of_day:
            if day == date.max:
                return None  # no time is after the end of the last day
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"\1+\2", raw))
    except ValueError:
        raise _bad(
            name, f"must be an ISO 8601 date-time such as 2026-10-01T09:00:00Z, got {raw!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _bad(name, f"must include a UTC offset such as Z or +02:00, got {raw!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _bad(name, f"is out of range once converted to UTC, got {raw!r}") from None
