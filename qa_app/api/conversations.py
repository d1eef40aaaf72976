"""/api/v1/conversations: import conversations, list them with filters, read one in full."""

from __future__ import annotations

from typing import Any, TextIO, cast

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from qa_app.api import bodies
from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.errors import ApiError
from qa_app.api.params import bool_arg, choice_arg, int_arg, moment_arg, text_arg
from qa_app.api.serializers import conversation_detail, conversation_summary
from qa_app.conversations.importer import (
    UNKNOWN_AGENT_RULES,
    ImportFailed,
    ImportOptions,
    ImportReport,
    import_stream,
)
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.conversations.records import CHANNELS
from qa_app.db import get_session
from qa_app.org.models import Agent, Team
from qa_app.org.roles import ORG_EDITORS, Role
from qa_app.org.scope import scoped
from qa_app.org.services import organisation_settings
from qa_app.pagination import MAX_PER_PAGE, paginate

DEFAULT_PER_PAGE = 50


def _import_options() -> ImportOptions:
    session = get_session()
    default_redact = current_app.config["QA_REDACT_PII"]
    return ImportOptions(
        format="jsonl",
        source=text_arg("source"),
        partial=bool_arg("partial"),
        unknown_agents=choice_arg("unknown_agents", UNKNOWN_AGENT_RULES, "create") or "create",
        dry_run=bool_arg("dry_run"),
        redact=organisation_settings(session, default_redact=default_redact).redact_pii,
        create_partners=api_user().role == Role.ADMIN,
    )


def _import_status(report: ImportReport, options: ImportOptions) -> int:
    if report.error_count and not options.partial:
        return 422  # nothing was written
    if report.committed and (report.created or report.updated):
        return 201
    return 200


@bp.post("/conversations")
@api_roles(ORG_EDITORS)
def import_conversations() -> tuple[Response, int]:
    """Import a JSON array or JSON Lines of canonical conversations (gzip accepted)."""
    mimetype = bodies.media_type()
    options = _import_options()
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
    return jsonify(answer), _import_status(report, options)


def _filtered(stmt: Select[Any]) -> Select[Any]:
    """Apply the list filters of the query string to a SELECT over conversations."""
    channel = choice_arg("channel", CHANNELS)
    if channel:
        stmt = stmt.where(Conversation.channel == channel)
    agent = text_arg("agent")
    if agent:
        stmt = stmt.where(
            Conversation.agent_id.in_(select(Agent.id).where(Agent.external_id == agent))
        )
    team_id = int_arg("team_id")
    if team_id is not None:
        stmt = stmt.where(Conversation.team_id == team_id)
    source = text_arg("source")
    if source:
        stmt = stmt.where(Conversation.source == source)
    for tag in request.args.getlist("tag"):
        if tag.strip():
            stmt = stmt.where(
                Conversation.id.in_(
                    select(ConversationTag.conversation_id).where(
                        ConversationTag.tag == tag.strip().lower()
                    )
                )
            )
    started_from = moment_arg("from")
    if started_from is not None:
        stmt = stmt.where(Conversation.started_at >= started_from)
    started_to = moment_arg("to", end_of_day=True)
    if started_to is not None:
        stmt = stmt.where(Conversation.started_at < started_to)
    updated_since = moment_arg("updated_since")
    if updated_since is not None:
        stmt = stmt.where(Conversation.updated_at >= updated_since)
    return stmt


def with_references(stmt: Select[Any]) -> Select[Any]:
    """Load what a summary shows in a fixed number of queries, whatever the page size."""
    return stmt.options(
        selectinload(Conversation.agent),
        selectinload(Conversation.team).selectinload(Team.partner),
        selectinload(Conversation.tag_rows),
    )


@bp.get("/conversations")
@api_roles(Role)
def list_conversations() -> Response:
    """List the conversations the token's user may see, newest first, with filters."""
    page = int_arg("page", 1) or 1
    per_page = min(int_arg("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE, MAX_PER_PAGE)
    stmt = _filtered(scoped(select(Conversation), Conversation, api_user()))
    stmt = with_references(stmt.order_by(Conversation.started_at.desc(), Conversation.id.desc()))
    result = paginate(get_session(), stmt, page, per_page)
    next_url = None
    if result.has_next:
        # Keys starting with "_" would be read by url_for as options, not as query arguments.
        # Typed as url_for's own **values (Any): with list values, mypy would match them
        # against its _anchor, _method and _scheme options, which no key here can be.
        args: dict[str, Any] = {
            key: values for key, values in request.args.lists() if not key.startswith("_")
        }
        args["page"] = [str(page + 1)]
        next_url = url_for("api.list_conversations", **args, _external=True)
    return jsonify(
        {
            "items": [conversation_summary(conversation) for conversation in result.items],
            "page": page,
            "per_page": per_page,
            "total": result.total,
            "next": next_url,
        }
    )


@bp.get("/conversations/<int:conversation_id>")
@api_roles(Role)
def get_conversation(conversation_id: int) -> Response:
    """One conversation with its metadata and messages; 404 when missing or out of scope."""
    session = get_session()
    stmt = with_references(select(Conversation).where(Conversation.id == conversation_id))
    conversation = session.scalars(scoped(stmt, Conversation, api_user())).one_or_none()
    if conversation is None:
        raise ApiError(404, "There is no such conversation, or it is not yours to see.")
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.position)
    )
    return jsonify(conversation_detail(conversation, messages))
