"""Value formats shared by every API answer, for any feature's endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def iso(moment: datetime) -> str:
    """ISO 8601 with its UTC offset."""
    return moment.isoformat()


# A moment as ISO 8601 with its UTC offset ("2026-10-01T07:00:00+00:00"; pydantic alone would
# write "Z"), documented as a date-time.
Moment = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]
