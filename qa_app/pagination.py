"""Offset pagination with the count done in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import abort, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from qa_app.untrusted import MAX_ID, parse_id

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_args(default_per_page: int = 25) -> tuple[int, int]:
    """Read ?page= and ?per_page= from the request, clamped to sane values.

    Pages stop at ``MAX_ID``: any page past the end is empty, and a larger number would make
    an offset beyond the database's integers.
    """
    page = request.args.get("page", 1, type=int) or 1
    per_page = request.args.get("per_page", default_per_page, type=int) or default_per_page
    return min(max(1, page), MAX_ID), min(max(1, per_page), MAX_PER_PAGE)


def id_arg(name: str) -> int | None:
    """An id filter from the query string (``?team=3``): None when absent, 0 or not a number,
    400 when it is a number past ``MAX_ID``, which no row can have."""
    raw = request.args.get(name, "").strip()
    value = parse_id(raw)
    if value is None and raw.isascii() and raw.isdigit() and raw.strip("0"):
        abort(400)
    return value


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, total=total, page=page, per_page=per_page)
