"""Where features above conversations add to its pages and filters.

Conversations sit below reviews (and everything after them) in the layers, so they import none
of them; a feature with something to add registers it here when the app is built (see
``qa_app.reviews.hooks``). Without a registration the page simply shows nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from qa_app.conversations.models import Conversation


@dataclass(frozen=True)
class TranscriptPanel:
    """A card beside a transcript: a template of the feature's and what it renders."""

    template: str
    context: dict[str, Any]


PanelMaker = Callable[[Session, Conversation, Any], TranscriptPanel | None]
ReviewedIds = Callable[[], Select[Any]]


@dataclass
class _Hooks:
    panels: dict[str, PanelMaker] = field(default_factory=dict)
    reviewed_ids: ReviewedIds | None = None


_hooks = _Hooks()


def add_transcript_panel(name: str, maker: PanelMaker) -> None:
    _hooks.panels[name] = maker  # by name: building a second app registers nothing twice


def set_reviewed_conversations(query: ReviewedIds) -> None:
    """The SELECT of the ids of reviewed conversations, for the reviewed-or-not filter."""
    _hooks.reviewed_ids = query


def transcript_panels(session: Session, conversation: Conversation, user: Any) -> list[Any]:
    panels = (maker(session, conversation, user) for maker in _hooks.panels.values())
    return [panel for panel in panels if panel is not None]


def reviewed_conversations() -> Select[Any] | None:
    return _hooks.reviewed_ids() if _hooks.reviewed_ids is not None else None
