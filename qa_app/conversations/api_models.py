"""The models of /api/v1/conversations: the list's query, the import's, and the answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from qa_app.api.formats import Moment
from qa_app.api.models import (
    AgentRef,
    Answer,
    JsonObject,
    PageAnswer,
    PartnerRef,
    TeamRef,
    agent_ref,
    partner_ref,
    team_ref,
)
from qa_app.api.params import Flag, Id, PageQuery, Query, Since, Text, Until, one_of
from qa_app.conversations import models
from qa_app.conversations.importer import UNKNOWN_AGENT_RULES
from qa_app.conversations.models import Conversation
from qa_app.conversations.records import CHANNELS

BOOLEAN_SPELLINGS = "Also accepts 1/0, yes/no, on/off."

# Queries -----------------------------------------------------------------------------------------


class ConversationsQuery(PageQuery):
    channel: Annotated[str | None, one_of(CHANNELS)] = Field(None, description="Only this channel.")
    agent: Text = Field(None, description="The agent's external id.")
    team_id: Id = Field(None, description="The team's id.")
    tag: list[str] = Field(
        default_factory=list,
        description="A tag; repeat to require several.",
        json_schema_extra={"style": "form", "explode": True},
    )
    source: Text = Field(None, description="The source system.")
    from_: Since = Field(
        None,
        alias="from",
        description="Started at or after: a date (midnight UTC) or a date-time with offset.",
    )
    to: Until = Field(
        None,
        description="Started before: a date-time, or a date meaning up to the end of that day "
        "(UTC).",
    )
    updated_since: Since = Field(None, description="Imported or updated at or after this moment.")

    def tags(self) -> list[str]:
        return [tag.strip().lower() for tag in self.tag if tag.strip()]


class ImportQuery(Query):
    partial: Flag = Field(
        False,
        description="Import the valid conversations and report the invalid ones. "
        + BOOLEAN_SPELLINGS,
    )
    unknown_agents: Annotated[str, one_of(UNKNOWN_AGENT_RULES)] = Field(
        "create", description="What to do with agents the app does not know."
    )
    dry_run: Flag = Field(
        False, description="Validate and count, write nothing. " + BOOLEAN_SPELLINGS
    )
    source: Text = Field(None, description="Overrides every conversation's source.")


# Answers -----------------------------------------------------------------------------------------


class ConversationSummary(Answer):
    id: int
    source: str
    external_id: str
    channel: str
    agent: AgentRef | None
    team: TeamRef | None
    partner: PartnerRef | None
    started_at: Moment
    ended_at: Moment | None
    handle_time_seconds: int | None
    csat: int | None
    status: str | None
    language: str | None
    tags: list[str]
    message_count: int
    redactions: dict[str, int] = Field(
        description="Personal data replaced in message texts, by kind."
    )
    imported_at: Moment
    updated_at: Moment


class Message(Answer):
    position: int
    speaker: str
    author: str | None
    text: str
    sent_at: Moment | None


class ConversationDetail(ConversationSummary):
    metadata: JsonObject = Field(description="Free-form metadata of the conversation.")
    messages: list[Message]


class ConversationPage(PageAnswer):
    items: list[ConversationSummary]


class ImportProblem(Answer):
    location: str
    field: str | None
    reason: str


class ImportReport(Answer):
    """The import report."""

    format: str
    committed: bool
    dry_run: bool
    total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error_count: int
    errors: list[ImportProblem]
    redactions: dict[str, int]
    new_agents: list[str]
    new_teams: list[str]
    new_partners: list[str]
    import_id: int | None


def _summary_fields(conversation: Conversation) -> JsonObject:
    team = conversation.team
    return {
        "id": conversation.id,
        "source": conversation.source,
        "external_id": conversation.external_id,
        "channel": conversation.channel,
        "agent": agent_ref(conversation.agent),
        "team": team_ref(team),
        "partner": partner_ref(team.partner if team is not None else None),
        "started_at": conversation.started_at,
        "ended_at": conversation.ended_at,
        "handle_time_seconds": conversation.handle_time_seconds,
        "csat": conversation.csat,
        "status": conversation.status,
        "language": conversation.language,
        "tags": conversation.tags,
        "message_count": conversation.message_count,
        "redactions": conversation.redactions or {},
        "imported_at": conversation.imported_at,
        "updated_at": conversation.updated_at,
    }


def conversation_summary(conversation: Conversation) -> ConversationSummary:
    """Expects agent, team, team.partner and tag_rows loaded with the conversation."""
    return ConversationSummary(**_summary_fields(conversation))


def message_answer(row: models.Message) -> Message:
    return Message(
        position=row.position,
        speaker=row.speaker,
        author=row.author,
        text=row.text,
        sent_at=row.sent_at,
    )


def conversation_detail(
    conversation: Conversation, messages: Iterable[models.Message]
) -> ConversationDetail:
    return ConversationDetail(
        **_summary_fields(conversation),
        metadata=conversation.extra or {},
        messages=[message_answer(row) for row in messages],
    )
