"""Personal API tokens: created once and shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import ApiToken, User
from qa_app.db import utcnow

TOKEN_PREFIX = "qa_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Return the stored token row and the secret, which is never stored and shown only now."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name.strip(), token_hash=_digest(secret), prefix=secret[:10]
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user behind a live token, or None; records when the token was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).one_or_none()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user
