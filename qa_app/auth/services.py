"""Account operations: create, authenticate with lock-out, change password, deactivate."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User, new_session_token
from qa_app.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from qa_app.auth.tokens import revoke_all_tokens
from qa_app.db import utcnow
from qa_app.org.models import Agent, Partner
from qa_app.org.roles import PARTNER_ROLES, Role


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so timing does not reveal which exist."""
    return hash_password("not a real password")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is fit to show the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Password must have at least {MIN_PASSWORD_LENGTH} characters.")


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def _check_links(
    session: Session, role: Role, partner_id: int | None, agent_id: int | None
) -> None:
    if role in PARTNER_ROLES:
        if partner_id is None:
            raise AccountError("A partner user must belong to a partner.")
        if session.get(Partner, partner_id) is None:
            raise AccountError("Unknown partner.")
    elif partner_id is not None:
        raise AccountError("Only partner roles belong to a partner.")
    if role == Role.AGENT and agent_id is None:
        raise AccountError("An agent account must be linked to an agent profile.")
    if agent_id is not None:
        if session.get(Agent, agent_id) is None:
            raise AccountError("Unknown agent profile.")
        taken = session.scalar(
            select(func.count()).select_from(User).where(User.agent_id == agent_id)
        )
        if taken:
            raise AccountError("That agent profile already has an account.")


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    partner_id: int | None = None,
    agent_id: int | None = None,
    cheap_hash: bool = False,
) -> User:
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise AccountError("A user with that email already exists.")
    check_password_strength(password)
    _check_links(session, role, partner_id, agent_id)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password, cheap=cheap_hash),
        role=role,
        partner_id=partner_id,
        agent_id=agent_id,
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    user: User,
    *,
    email: str,
    name: str,
    role: Role,
    partner_id: int | None,
    agent_id: int | None,
) -> None:
    email = normalise_email(email)
    other = find_user_by_email(session, email)
    if other is not None and other.id != user.id:
        raise AccountError("A user with that email already exists.")
    if agent_id != user.agent_id:
        _check_links(session, role, partner_id, agent_id)
    else:
        _check_links(session, role, partner_id, None)
    if role == Role.AGENT and agent_id is None:
        raise AccountError("An agent account must be linked to an agent profile.")
    scope_changed = (role, partner_id, agent_id) != (user.role, user.partner_id, user.agent_id)
    user.email, user.name, user.role = email, name.strip(), role
    user.partner_id, user.agent_id = partner_id, agent_id
    if scope_changed:
        user.session_token = new_session_token()  # what they may see changed: log in again
    session.flush()


def set_password(session: Session, user: User, password: str, *, cheap_hash: bool = False) -> None:
    """Set a new password, end every existing session of the user and revoke their API tokens
    (whoever knew the old password may have made tokens with it)."""
    check_password_strength(password)
    user.password_hash = hash_password(password, cheap=cheap_hash)
    user.session_token = new_session_token()
    revoke_all_tokens(session, user)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivating logs the user out everywhere and revokes their API tokens for good."""
    user.is_active = active
    if not active:
        user.session_token = new_session_token()
        revoke_all_tokens(session, user)
    session.flush()


def end_sessions(session: Session, user: User) -> None:
    """Log-out: a new session token makes every cookie issued so far (remember-me included)
    worthless, so a copied or replayed cookie no longer logs anyone in."""
    user.session_token = new_session_token()
    session.flush()


class LoginRefused(Exception):
    """Authentication failed; ``locked`` tells whether the account is locked out."""

    def __init__(self, locked: bool = False) -> None:
        super().__init__("locked" if locked else "invalid credentials")
        self.locked = locked


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    max_failures: int,
    lockout: timedelta,
    cheap_hash: bool = False,
) -> User:
    """Check credentials, counting failures per account and locking it after too many."""
    user = find_user_by_email(session, email)
    if user is None:
        verify_password(_dummy_hash(), password)
        raise LoginRefused()
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_dummy_hash(), password)  # as long as any other refusal takes
        raise LoginRefused(locked=True)
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
        session.flush()
        raise LoginRefused()
    if needs_rehash(user.password_hash, cheap=cheap_hash):
        user.password_hash = hash_password(password, cheap=cheap_hash)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user
