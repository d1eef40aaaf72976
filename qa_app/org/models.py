"""Partners, teams and agents; deactivated, never deleted, because history refers to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from qa_app.db import Model, utcnow


class Partner(Model):
    """An outsourcing vendor (BPO) whose teams work for the organisation."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    teams: Mapped[list[Team]] = relationship(back_populates="partner")

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.id == partner_id

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return false()


class Team(Model):
    """A team is in-house when it has no partner."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner | None] = relationship(back_populates="teams")
    agents: Mapped[list[Agent]] = relationship(back_populates="team")

    @property
    def is_in_house(self) -> bool:
        return self.partner_id is None

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.partner_id == partner_id

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return false()


class AgentStatus(StrEnum):
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    INACTIVE = "inactive"


class Agent(Model):
    """A person whose conversations are reviewed."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    hire_date: Mapped[date | None]
    status: Mapped[AgentStatus] = mapped_column(
        Enum(
            AgentStatus,
            native_enum=False,
            length=20,
            values_callable=lambda enum: [member.value for member in enum],
            create_constraint=True,
            name="agent_status",
        ),
        default=AgentStatus.ACTIVE,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="agents")

    @property
    def is_active(self) -> bool:
        return self.status != AgentStatus.INACTIVE

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.team_id.in_(select(Team.id).where(Team.partner_id == partner_id))

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return cls.id == agent_id


class OrganisationSettings(Model):
    """Settings of the one organisation this installation serves; a single row."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="Our organisation")
    redact_pii: Mapped[bool] = mapped_column(default=True)
