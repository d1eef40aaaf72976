"""User accounts and their failed-login counters."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_app.db import Model, utcnow
from qa_app.org.models import Agent, Partner
from qa_app.org.roles import PARTNER_ROLES, Role

_PARTNER_ROLE_SQL = ", ".join(f"'{role.value}'" for role in sorted(PARTNER_ROLES))


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, Model):
    """A person who logs in. Partner roles belong to exactly one partner."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            f"(role IN ({_PARTNER_ROLE_SQL}) AND partner_id IS NOT NULL)"
            f" OR (role NOT IN ({_PARTNER_ROLE_SQL}) AND partner_id IS NULL)",
            name="partner_role_has_partner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=20,
            values_callable=lambda enum: [member.value for member in enum],
            create_constraint=True,
            name="user_role",
        )
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the login cookie; rotating it logs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner | None] = relationship()
    agent: Mapped[Agent | None] = relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_partner_user(self) -> bool:
        return self.role in PARTNER_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class ApiToken(Model):
    """A personal API token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def is_active(self) -> bool:
        return self.is_live(utcnow())

    @property
    def is_expired(self) -> bool:
        return self.revoked_at is None and not self.is_active
