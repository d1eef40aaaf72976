"""Every feature's /api/v1 endpoints, imported so that they register on the API blueprint.

Part of the application shell: it may import every feature, and no feature imports it. Runs
before the blueprint is registered on the app (routes cannot be added after).
"""

from __future__ import annotations


def load() -> None:
    from qa_app.auth import api as account_api  # noqa: F401
    from qa_app.calibration import api as calibration_api  # noqa: F401
    from qa_app.conversations import api as conversations_api  # noqa: F401
    from qa_app.jobs import api as jobs_api  # noqa: F401
    from qa_app.reviews import api as reviews_api  # noqa: F401
    from qa_app.sampling import api as assignments_api  # noqa: F401
    from qa_app.scorecards import api as scorecards_api  # noqa: F401
