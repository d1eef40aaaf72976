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
from qa_app.jobs import api as jobs_api  # noqa: F401  (GET /api/v1/jobs/<id>)

__all__ = ["bp"]
