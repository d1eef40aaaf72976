"""Bearer-token authentication for the API.

Only ``Authorization: Bearer qa_...`` authenticates. The session cookie is ignored on purpose: a
browser sends it with any cross-site request, so accepting it would let other sites act as the
logged-in user (CSRF), and the API is exempt from CSRF tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from qa_app.api.errors import ApiError
from qa_app.auth.models import User
from qa_app.auth.tokens import user_for_token
from qa_app.db import get_session
from qa_app.org.roles import Role

F = TypeVar("F", bound=Callable[..., Any])

CHALLENGE = 'Bearer realm="qa_app"'


def _bearer_secret() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def authenticate() -> User:
    """The active user behind the request's bearer token; 401 without a usable token."""
    secret = _bearer_secret()
    if secret is None:
        raise ApiError(
            401,
            "Send a personal API token in the header 'Authorization: Bearer qa_...'.",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    session = get_session()
    user = user_for_token(session, secret)
    if user is None:
        raise ApiError(
            401,
            "The token is unknown, expired or revoked, or its user is deactivated.",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    # Commit the token's last use now, so that an import rolling back does not undo it.
    session.commit()
    return user


def api_user() -> User:
    """The user authenticated by ``api_roles`` for this request."""
    user: User = g.api_user
    return user


def api_roles(*roles: Role | Iterable[Role]) -> Callable[[F], F]:
    """Let only bearer-token users with one of ``roles`` through; others get 401 or 403."""
    allowed: set[Role] = set()
    for role in roles:
        allowed.update([role] if isinstance(role, Role) else role)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = authenticate()
            if user.role not in allowed:
                raise ApiError(403, "Your role does not give you access to this endpoint.")
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
