"""Request rate limits: the API per token and per address, and login attempts per address.

One runaway script (or a token guesser) must not take the server from everyone else, and the
account lockout (auth/services.py) does not stop one address trying many accounts. Limits are
settings (``API_RATE_LIMIT``, ``API_RATE_LIMIT_PER_ADDRESS``, ``LOGIN_RATE_LIMIT``, in the
syntax of the ``limits`` library, e.g. "600 per minute"); counters live in
``RATELIMIT_STORAGE_URI``: memory by default (one process), ``redis://...`` to share them across
several workers. A limited request answers 429 with Retry-After; API answers also carry
X-RateLimit-Limit/Remaining/Reset headers.
"""

from __future__ import annotations

import hashlib
from typing import cast

from flask import Blueprint, Flask, request
from flask.typing import RouteCallable
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _api_client() -> str:
    """The bearer token (hashed: counters must not hold secrets), else the address."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]
    return "address:" + get_remote_address()


LIMITER_KEY = "qa_limiter"


def init_app(app: Flask) -> Limiter:
    """Attach a limiter of this app's own to the API blueprint and the login form.

    The app keeps it in ``app.extensions``: Flask-Limiter's decorators hold only a weak reference
    to their limiter, and a disabled limiter (``RATELIMIT_ENABLED=false``) is not registered on the
    app, so without this reference the limited views would fail once it is collected.
    """
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
        enabled=bool(app.config["RATELIMIT_ENABLED"]),
        key_prefix="qa_app",
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    # Flask types app.blueprints by the base class of its sansio layer; the app registers
    # flask.Blueprint objects, the type Flask-Limiter's decorator takes a blueprint as.
    api = cast(Blueprint, app.blueprints["api"])
    # Shared: one count over every endpoint of the API, not one per endpoint.
    limiter.shared_limit(app.config["API_RATE_LIMIT"], "api-token", key_func=_api_client)(api)
    limiter.shared_limit(
        app.config["API_RATE_LIMIT_PER_ADDRESS"], "api-address", key_func=get_remote_address
    )(api)
    login_view = app.view_functions["auth.login"]
    limited = limiter.limit(
        app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=get_remote_address
    )(login_view)
    # The decorator keeps the view's signature, but mypy solves its Callable[P, R] against the
    # union RouteCallable (a sync or an async view) as one callable that may return either, no
    # longer a RouteCallable; it is the same kind of view as login_view.
    app.view_functions["auth.login"] = cast(RouteCallable, limited)
    return limiter
