"""What calibration adds to sampling: its sessions' conversations are scored there, blind, so
they are never sampled for ordinary review."""

from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy.sql.elements import ColumnElement

from qa_app.calibration.models import CalibrationItem
from qa_app.conversations.models import Conversation
from qa_app.sampling import hooks as sampling_hooks


def not_in_a_session() -> ColumnElement[bool]:
    return ~exists().where(CalibrationItem.conversation_id == Conversation.id)


def register() -> None:
    sampling_hooks.exclude_candidates("calibration", not_in_a_session)
