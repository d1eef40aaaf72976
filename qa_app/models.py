"""One place that imports every feature's models, so metadata is complete for Alembic and tests."""


def import_all_models() -> None:
    from qa_app.auth import models as auth_models  # noqa: F401
    from qa_app.org import models as org_models  # noqa: F401
