"""Browsing conversations: the filtered list and one conversation's transcript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from qa_app.conversations import browse, hooks
from qa_app.conversations.forms import ConversationFilterForm, list_args
from qa_app.conversations.models import Conversation
from qa_app.db import get_engine, get_session
from qa_app.org.access import role_required
from qa_app.org.roles import Role
from qa_app.org.scope import get_scoped_or_404, scoped
from qa_app.pagination import page_args, paginate

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

BROWSERS = frozenset(Role)  # every role browses conversations, each within its own scope


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"format_duration": browse.format_duration, "SortKey": browse.SortKey}


@bp.get("/")
@role_required(BROWSERS)
def list_conversations() -> tuple[str, int]:
    """List the conversations the user may see, filtered, sorted and paginated."""
    session = get_session()
    form = ConversationFilterForm.for_user(session, current_user, request.args)
    page, previews = None, {}
    if form.validate():
        query = browse.conversation_query(form.filters(), get_engine().dialect.name)
        stmt = scoped(query, Conversation, current_user).options(*browse.list_loading())
        page_number, per_page = page_args()
        page = paginate(session, stmt, min(page_number, browse.MAX_PAGE), per_page)
        previews = browse.first_customer_lines(session, [item.id for item in page.items])
    html = render_template(
        "conversations/list.html",
        form=form,
        page=page,
        previews=previews,
        popular_tags=browse.popular_tags(session, current_user),
        args=list_args(request.args),
    )
    return html, 200 if page is not None else 400


@bp.get("/<int:conversation_id>")
@role_required(BROWSERS)
def transcript(conversation_id: int) -> str:
    """Show one conversation's messages and details."""
    session = get_session()
    conversation = get_scoped_or_404(session, Conversation, conversation_id, current_user)
    return render_template(
        "conversations/transcript.html",
        conversation=conversation,
        panels=hooks.transcript_panels(session, conversation, current_user),
        messages=browse.transcript_messages(session, conversation),
        redactions=browse.redaction_summary(conversation.redactions),
        metadata=browse.metadata_items(conversation.extra),
        back_args=list_args(request.args, keep_page=True),
    )
