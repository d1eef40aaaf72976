"""Personal API tokens: created once and shown once, stored hashed, revocable, expiring.

A token ends when it expires (90 days by default, as the commercial suites do), when it is
revoked, and when its user's password is set (by the user or reset by an admin) or the user is
deactivated: whoever had the old password may have made tokens with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qa_app.auth.models import ApiToken, User
from qa_app.db import utcnow

TOKEN_PREFIX = "qa_"
DEFAULT_LIFETIME_DAYS = 90
LIFETIME_CHOICES = (30, 90, 365, None)  # days; None: until revoked


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, user: User, name: str, *, days: int | None = DEFAULT_LIFETIME_DAYS
) -> tuple[ApiToken, str]:
    """Return the stored token row and the secret, which is never stored and shown only now."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=_digest(secret),
        prefix=secret[:10],
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def revoke_all_tokens(session: Session, user: User) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user behind a live token, or None; records when the token was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).one_or_none()
    now = utcnow()
    if token is None or not token.is_live(now) or not token.user.is_active:
        return None
    token.last_used_at = now
    return token.user
