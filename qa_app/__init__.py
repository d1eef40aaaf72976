"""qa_app: quality assurance, calibration and training for customer-support teams."""

from __future__ import annotations

from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, database, security, blueprints, CLI, error pages."""
    from qa_app import cli, db, errors, navigation, ratelimit, request_checks, security
    from qa_app.auth import login
    from qa_app.config import load_config
    from qa_app.extensions import csrf

    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config_overrides)
    request_checks.init_app(app)  # before the blueprints: it sets the <int:> converter
    db.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    navigation.init_app(app)
    _register_blueprints(app)
    ratelimit.init_app(app)
    cli.init_app(app)
    _register_jobs(app)
    _register_hooks()
    errors.init_app(app)
    return app


def _register_jobs(app: Flask) -> None:
    """Background jobs: settings, `flask worker`, and each feature's job kinds (their jobs.py)."""
    from qa_app import jobs
    from qa_app.calibration import jobs as calibration_jobs  # noqa: F401
    from qa_app.conversations import jobs as conversation_jobs  # noqa: F401
    from qa_app.sampling import jobs as sampling_jobs  # noqa: F401

    jobs.init_app(app)


def _register_hooks() -> None:
    """Features take part in the pages and rules of the features below them (which cannot
    import them): see the hooks modules of conversations and sampling."""
    from qa_app.calibration import hooks as calibration_hooks
    from qa_app.reviews import hooks as review_hooks

    review_hooks.register()
    calibration_hooks.register()


def _register_blueprints(app: Flask) -> None:
    from qa_app import api_endpoints
    from qa_app.admin.views import bp as admin_bp
    from qa_app.api import bp as api_bp
    from qa_app.auth.token_views import bp as tokens_bp
    from qa_app.auth.views import bp as auth_bp
    from qa_app.calibration.views import bp as calibration_bp
    from qa_app.conversations.import_views import bp as conversation_imports_bp
    from qa_app.conversations.views import bp as conversations_bp
    from qa_app.jobs.views import bp as jobs_bp
    from qa_app.main.views import bp as main_bp
    from qa_app.org.views import bp as org_bp
    from qa_app.reviews.views import bp as reviews_bp
    from qa_app.sampling.views import bp as sampling_bp
    from qa_app.scorecards.views import bp as scorecards_bp

    api_endpoints.load()  # each feature's api.py adds its routes to api_bp
    for blueprint in (
        main_bp,
        auth_bp,
        org_bp,
        admin_bp,
        conversations_bp,
        conversation_imports_bp,
        tokens_bp,
        api_bp,
        scorecards_bp,
        reviews_bp,
        sampling_bp,
        calibration_bp,
        jobs_bp,
    ):
        app.register_blueprint(blueprint)
