"""One place that imports every feature's models, so metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from qa_app.auth import models as auth_models  # noqa: F401
    from qa_app.calibration import models as calibration_models  # noqa: F401
    from qa_app.conversations import models as conversation_models  # noqa: F401
    from qa_app.conversations import search  # noqa: F401  (search DDL hooks on the message table)
    from qa_app.jobs import models as job_models  # noqa: F401
    from qa_app.org import models as org_models  # noqa: F401
    from qa_app.reviews import models as review_models  # noqa: F401
    from qa_app.sampling import models as sampling_models  # noqa: F401
    from qa_app.scorecards import models as scorecard_models  # noqa: F401
