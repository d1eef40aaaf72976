"""The JSON shapes of the API; every datetime is ISO 8601 with its UTC offset."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qa_app.api.formats import iso
from qa_app.auth.models import User
from qa_app.conversations.models import Conversation, Message
from qa_app.org.models import Agent, Partner, Team


def agent_ref(agent: Agent | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {"id": agent.id, "external_id": agent.external_id, "name": agent.name}


def team_ref(team: Team | None) -> dict[str, Any] | None:
    return None if team is None else {"id": team.id, "name": team.name}


def partner_ref(partner: Partner | None) -> dict[str, Any] | None:
    return None if partner is None else {"id": partner.id, "name": partner.name}


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    """Expects agent, team, team.partner and tag_rows loaded with the conversation."""
    team = conversation.team
    return {
        "id": conversation.id,
        "source": conversation.source,
        "external_id": conversation.external_id,
        "channel": conversation.channel,
        "agent": agent_ref(conversation.agent),
        "team": team_ref(team),
        "partner": partner_ref(team.partner if team is not None else None),
        "started_at": iso(conversation.started_at),
        "ended_at": iso(conversation.ended_at),
        "handle_time_seconds": conversation.handle_time_seconds,
        "csat": conversation.csat,
        "status": conversation.status,
        "language": conversation.language,
        "tags": conversation.tags,
        "message_count": conversation.message_count,
        "redactions": conversation.redactions or {},
        "imported_at": iso(conversation.imported_at),
        "updated_at": iso(conversation.updated_at),
    }


def message(row: Message) -> dict[str, Any]:
    return {
        "position": row.position,
        "speaker": row.speaker,
        "author": row.author,
        "text": row.text,
        "sent_at": iso(row.sent_at),
    }


def conversation_detail(conversation: Conversation, messages: Iterable[Message]) -> dict[str, Any]:
    return {
        **conversation_summary(conversation),
        "metadata": conversation.extra or {},
        "messages": [message(row) for row in messages],
    }


def user_profile(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "partner": partner_ref(user.partner),
        "agent": agent_ref(user.agent),
    }
