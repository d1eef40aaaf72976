"""Conversations, their messages and tags, and who may see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from qa_app.db import Model, utcnow
from qa_app.org.models import Agent, Team

SAMPLING_COLUMNS = ["agent_id", "team_id", "channel", "csat", "handle_time_seconds"]


class Conversation(Model):
    """One support conversation, identified by its source system and that system's id."""

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_conversation_source_external_id"),
        # On PostgreSQL the period scans of sampling read everything they need from this index.
        Index(
            "ix_conversation_started_at_id",
            "started_at",
            "id",
            postgresql_include=SAMPLING_COLUMNS,
        ),
        Index("ix_conversation_team_id_started_at", "team_id", "started_at"),
        Index("ix_conversation_agent_id_started_at", "agent_id", "started_at"),
        Index("ix_conversation_channel_started_at", "channel", "started_at"),
        Index("ix_conversation_csat", "csat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    # The agent's team when the conversation was imported; kept when the agent moves on.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    handle_time_seconds: Mapped[int | None]
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str | None] = mapped_column(String(35))
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    redactions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    message_count: Mapped[int] = mapped_column(default=0)
    # Hash of the imported content: a re-import of an unchanged conversation touches nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    agent: Mapped[Agent | None] = relationship()
    team: Mapped[Team | None] = relationship()
    messages: WriteOnlyMapped[Message] = relationship(
        order_by="Message.position", passive_deletes=True
    )
    tag_rows: Mapped[list[ConversationTag]] = relationship(
        order_by="ConversationTag.tag", viewonly=True
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.team_id.in_(select(Team.id).where(Team.partner_id == partner_id))

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return cls.agent_id == agent_id


class Message(Model):
    """One turn of a conversation, its text already redacted."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_conversation_id_position", "conversation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    position: Mapped[int]
    speaker: Mapped[str] = mapped_column(String(10))
    author: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class ConversationTag(Model):
    """A tag on a conversation; a table rather than JSON so tag filters use an index everywhere."""

    __tablename__ = "conversation_tag"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class ConversationImport(Model):
    """One run of the importer: who brought which file in, how, and what came of it."""

    __tablename__ = "conversation_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    via: Mapped[str] = mapped_column(String(10))  # cli, web or api
    filename: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    redactions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
