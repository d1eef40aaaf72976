"""/api/v1/conversations: import conversations, list them with filters, read one in full."""

from __future__ import annotations

from typing import Any, TextIO, cast

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.errors import ApiError
from qa_app.api.models import next_page_url
from qa_app.conversations import api_bodies as bodies
from qa_app.conversations.api_models import (
    ConversationDetail,
    ConversationPage,
    ConversationsQuery,
    ImportQuery,
    ImportReport,
    conversation_detail,
    conversation_summary,
)
from qa_app.conversations.importer import ImportFailed, ImportOptions, import_stream
from qa_app.conversations.importer import ImportReport as Report
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.db import get_session
from qa_app.org.models import Agent, Team
from qa_app.org.roles import ORG_EDITORS, Role
from qa_app.org.scope import scoped
from qa_app.org.services import organisation_settings
from qa_app.pagination import paginate
from qa_app.service_errors import NotFound

LINES_SCHEMA = {
    "schema": {
        "type": "string",
        "description": "JSON Lines: one conversation object per line; blank lines are skipped.",
    }
}
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            bodies.JSON_TYPE: {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": True,
                        "description": "A conversation in the canonical format.",
                    },
                }
            },
            **{media_type: LINES_SCHEMA for media_type in bodies.JSON_LINES_TYPES},
        },
    }
}


def _import_options(query: ImportQuery) -> ImportOptions:
    session = get_session()
    default_redact = current_app.config["QA_REDACT_PII"]
    return ImportOptions(
        format="jsonl",
        source=query.source,
        partial=query.partial,
        unknown_agents=query.unknown_agents,
        dry_run=query.dry_run,
        redact=organisation_settings(session, default_redact=default_redact).redact_pii,
        create_partners=api_user().role == Role.ADMIN,
    )


def _import_status(report: Report, options: ImportOptions) -> int:
    if report.error_count and not options.partial:
        return 422  # nothing was written
    if report.committed and (report.created or report.updated):
        return 201
    return 200


@bp.post("/conversations")
@endpoint(
    ORG_EDITORS,
    operation_id="importConversations",
    tag="conversations",
    answers={
        200: (ImportReport, "Nothing changed, or a dry run without errors."),
        201: (ImportReport, "At least one conversation was created or updated."),
        422: (
            ImportReport,
            "Some conversations are invalid and partial was not set: nothing was written.",
        ),
    },
    errors=[403, 411, 413, 415],
    extra=IMPORT_BODY,
)
def import_conversations(query: ImportQuery) -> tuple[ImportReport, int]:
    """Import conversations (admin, manager).

    Canonical conversations (docs/conversation-format.md), as a JSON array or JSON Lines. gzip
    bodies are accepted with Content-Encoding: gzip.
    """
    mimetype = bodies.media_type()
    options = _import_options(query)
    stream: TextIO
    if mimetype == bodies.JSON_TYPE:
        stream = cast(TextIO, bodies.JsonArrayLines(bodies.json_array_body()))
    else:
        stream = bodies.json_lines_body()
    try:
        report = import_stream(
            get_session(), stream, options, fmt="jsonl", via="api", user_id=api_user().id
        )
    except ImportFailed as error:
        raise ApiError(400, f"Unreadable body: {error}; nothing was imported.") from error
    answer = report.as_dict()
    if mimetype == bodies.JSON_TYPE:
        answer["errors"] = bodies.array_locations(answer["errors"])
    return ImportReport.model_validate(answer), _import_status(report, options)


def _filtered(stmt: Select[Any], query: ConversationsQuery) -> Select[Any]:
    """Apply the list filters of the query string to a SELECT over conversations."""
    if query.channel:
        stmt = stmt.where(Conversation.channel == query.channel)
    if query.agent:
        stmt = stmt.where(
            Conversation.agent_id.in_(select(Agent.id).where(Agent.external_id == query.agent))
        )
    if query.team_id is not None:
        stmt = stmt.where(Conversation.team_id == query.team_id)
    if query.source:
        stmt = stmt.where(Conversation.source == query.source)
    for tag in query.tags():
        stmt = stmt.where(
            Conversation.id.in_(
                select(ConversationTag.conversation_id).where(ConversationTag.tag == tag)
            )
        )
    if query.from_ is not None:
        stmt = stmt.where(Conversation.started_at >= query.from_)
    if query.to is not None:
        stmt = stmt.where(Conversation.started_at < query.to)
    if query.updated_since is not None:
        stmt = stmt.where(Conversation.updated_at >= query.updated_since)
    return stmt


def with_references(stmt: Select[Any]) -> Select[Any]:
    """Load what a summary shows in a fixed number of queries, whatever the page size."""
    return stmt.options(
        selectinload(Conversation.agent),
        selectinload(Conversation.team).selectinload(Team.partner),
        selectinload(Conversation.tag_rows),
    )


@bp.get("/conversations")
@endpoint(
    Role,
    operation_id="listConversations",
    tag="conversations",
    answers={200: ConversationPage},
)
def list_conversations(query: ConversationsQuery) -> ConversationPage:
    """List conversations in the user's scope, newest first."""
    stmt = _filtered(scoped(select(Conversation), Conversation, api_user()), query)
    stmt = with_references(stmt.order_by(Conversation.started_at.desc(), Conversation.id.desc()))
    result = paginate(get_session(), stmt, query.page, query.per_page)
    return ConversationPage(
        items=[conversation_summary(conversation) for conversation in result.items],
        page=query.page,
        per_page=query.per_page,
        total=result.total,
        next=next_page_url("api.list_conversations", query.page, result.has_next),
    )


@bp.get("/conversations/<int:conversation_id>")
@endpoint(
    Role,
    operation_id="getConversation",
    tag="conversations",
    answers={200: ConversationDetail},
    errors=[404],
)
def get_conversation(conversation_id: int) -> ConversationDetail:
    """One conversation with metadata and messages; 404 when missing or out of scope."""
    session = get_session()
    stmt = with_references(select(Conversation).where(Conversation.id == conversation_id))
    conversation = session.scalars(scoped(stmt, Conversation, api_user())).one_or_none()
    if conversation is None:
        raise NotFound("There is no such conversation, or it is not yours to see.")
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.position)
    )
    return conversation_detail(conversation, messages)
