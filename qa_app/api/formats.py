"""Value formats shared by every API answer, for any feature's endpoints."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its UTC offset, or null."""
    return moment.isoformat() if moment is not None else None
