"""The JSON API at /api/v1, authenticated by personal bearer tokens (docs/api.md)."""

from qa_app.api import (  # noqa: F401  (their routes register on bp)
    account,
    assignments,
    calibration,
    conversations,
    openapi,
    reviews,
    scorecards,
)
from qa_app.api.blueprint import bp

__all__ = ["bp"]
