"""Refuse untrusted request parts that no view should see: NULs in the query string, ids in URLs
beyond the database's range. See :mod:`qa_app.untrusted`.

``init_app`` must run before the blueprints are registered: a URL rule takes its converters
when it is added.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map, ValidationError

from qa_app.errors import error_answer
from qa_app.untrusted import MAX_ID, NUL


class IdConverter(IntegerConverter):
    """``<int:...>``: numbers beyond ``MAX_ID`` match no route, so they answer 404."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002 - werkzeug's argument names
        max: int | None = MAX_ID,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_ID)):  # also spares int() a number of thousands of digits
            raise ValidationError()
        return super().to_python(value)


def _refuse_nul_in_query() -> Any:
    raw = request.query_string
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    names = sorted(
        {name for name, value in request.args.items(multi=True) if NUL in name or NUL in value}
    )
    if not names:
        return None
    shown = ", ".join(repr(name.replace(NUL, "\\0")) for name in names)
    return error_answer(400, f"Query parameter {shown} must not contain NUL characters.")


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul_in_query)
