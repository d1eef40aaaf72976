"""Browsing conversations: the filtered, sorted list query, its filter choices and page helpers.

Everything here returns SQL statements or plain values; callers apply the partner scope
(``qa_app.org.scope.scoped``) to every statement over ``Conversation`` before running it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption
from sqlalchemy.sql.elements import ColumnElement

from qa_app.conversations import hooks
from qa_app.conversations.field_checks import normalise_tags
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.conversations.records import CHANNELS
from qa_app.conversations.search import matching_conversations
from qa_app.org.models import Agent, Partner, Team
from qa_app.org.scope import scope_of, scoped

IN_HOUSE = 0  # the partner_id filter value that means "teams without a partner"
MAX_TAG_FILTERS = 10
PREVIEW_LENGTH = 240  # characters of the first customer line fetched for the list
POPULAR_TAG_LIMIT = 50
POPULAR_TAG_SAMPLE = 2_000
MAX_PAGE = 100_000  # keeps OFFSET within 64 bits whatever ?page= says


class SortKey(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    CSAT_LOW = "csat_low"
    CSAT_HIGH = "csat_high"
    LONGEST = "longest"
    MOST_MESSAGES = "most_messages"

    @property
    def label(self) -> str:
        return SORT_LABELS[self]


SORT_LABELS = {
    SortKey.NEWEST: "Newest first",
    SortKey.OLDEST: "Oldest first",
    SortKey.CSAT_LOW: "CSAT low to high",
    SortKey.CSAT_HIGH: "CSAT high to low",
    SortKey.LONGEST: "Longest handle time",
    SortKey.MOST_MESSAGES: "Most messages",
}


@dataclass(frozen=True)
class ConversationFilters:
    """What the list shows; every field left at its default means "no restriction".

    ``partner_id`` may be ``IN_HOUSE`` for in-house teams. Dates are inclusive days in UTC.
    ``csat_unknown`` keeps only conversations without a rating. All ``tags`` must be present.
    """

    partner_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    csat_min: int | None = None
    csat_max: int | None = None
    csat_unknown: bool = False
    tags: tuple[str, ...] = ()
    q: str = ""
    reviewed: bool | None = None  # True: has a submitted review; False: none yet
    sort: SortKey = SortKey.NEWEST

    @property
    def is_filtered(self) -> bool:
        """Whether anything but the order differs from the unfiltered list."""
        return replace(self, sort=SortKey.NEWEST) != ConversationFilters()


def parse_tags(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Comma-separated (or already split) tags, normalised the way imports store them."""
    parts = raw.split(",") if isinstance(raw, str) else [p for item in raw for p in item.split(",")]
    return normalise_tags(parts)


def _has_words(query: str) -> bool:
    return re.search(r"\w", query, flags=re.UNICODE) is not None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: ConversationFilters, dialect_name: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.partner_id is not None:
        partner_teams = select(Team.id).where(
            Team.partner_id.is_(None)
            if filters.partner_id == IN_HOUSE
            else Team.partner_id == filters.partner_id
        )
        conditions.append(Conversation.team_id.in_(partner_teams))
    if filters.team_id is not None:
        conditions.append(Conversation.team_id == filters.team_id)
    if filters.agent_id is not None:
        conditions.append(Conversation.agent_id == filters.agent_id)
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.date_from is not None:
        conditions.append(Conversation.started_at >= _day_start(filters.date_from))
    if filters.date_to is not None and filters.date_to < date.max:
        conditions.append(Conversation.started_at < _day_start(filters.date_to + timedelta(days=1)))
    if filters.csat_unknown:
        conditions.append(Conversation.csat.is_(None))
    if filters.csat_min is not None:
        conditions.append(Conversation.csat >= filters.csat_min)
    if filters.csat_max is not None:
        conditions.append(Conversation.csat <= filters.csat_max)
    for tag in filters.tags:
        # IN (not a correlated EXISTS) lets SQLite start from the tag index instead of probing
        # every conversation; PostgreSQL plans both as the same semi-join.
        tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag == tag)
        conditions.append(Conversation.id.in_(tagged))
    if filters.q and _has_words(filters.q):
        conditions.append(_full_text(dialect_name, filters.q))
    if filters.reviewed is not None:
        reviewed = hooks.reviewed_conversations()
        if reviewed is None:  # no reviews feature: nothing is reviewed
            conditions.append(false() if filters.reviewed else true())
        else:
            conditions.append(
                Conversation.id.in_(reviewed)
                if filters.reviewed
                else Conversation.id.not_in(reviewed)
            )
    return conditions


def _full_text(dialect_name: str, query: str) -> ColumnElement[bool]:
    """Conversations with a message containing every word of ``query``.

    On PostgreSQL the match is computed once, through the GIN index, into an array. As a plain
    ``IN`` the planner cannot estimate how many conversations a word matches; guessing "a few
    per page", it walks conversations newest first and runs ``to_tsvector`` on each of their
    messages, which takes seconds to find a rare word (benchmarks/browse_bench.py).
    """
    condition = matching_conversations(dialect_name, query)
    if dialect_name != "postgresql":
        return condition
    matched = select(Conversation.id).where(condition).correlate(None).scalar_subquery()
    return Conversation.id == func.any(func.array(matched))


def _order_by(sort: SortKey) -> list[Any]:
    newest = [Conversation.started_at.desc(), Conversation.id.desc()]
    orders: dict[SortKey, list[Any]] = {
        SortKey.NEWEST: newest,
        SortKey.OLDEST: [Conversation.started_at.asc(), Conversation.id.asc()],
        SortKey.CSAT_LOW: [Conversation.csat.asc().nulls_last(), *newest],
        SortKey.CSAT_HIGH: [Conversation.csat.desc().nulls_last(), *newest],
        SortKey.LONGEST: [Conversation.handle_time_seconds.desc().nulls_last(), *newest],
        SortKey.MOST_MESSAGES: [Conversation.message_count.desc(), *newest],
    }
    return orders[sort]


def conversation_query(filters: ConversationFilters, dialect_name: str) -> Select[Any]:
    """One SELECT of the conversations matching ``filters``, in a stable order (unscoped)."""
    return (
        select(Conversation)
        .where(*_conditions(filters, dialect_name))
        .order_by(*_order_by(filters.sort))
    )


def list_loading() -> list[LoaderOption]:
    """Loader options for a page of the list: a constant number of queries whatever its size."""
    # selectinload, not joinedload: joins in the list query would be made for every matching
    # row before the sort and LIMIT, which costs SQLite hundreds of ms on large unindexed sorts.
    return [
        selectinload(Conversation.agent),
        selectinload(Conversation.team).selectinload(Team.partner),
        selectinload(Conversation.tag_rows),
    ]


def first_customer_lines(session: Session, conversation_ids: Sequence[int]) -> dict[int, str]:
    """The start of each conversation's first customer message, in one query."""
    if not conversation_ids:
        return {}
    first = Message.__table__.alias("first_message")
    first_position = (
        select(func.min(first.c.position))
        .where(first.c.conversation_id == Message.conversation_id, first.c.speaker == "customer")
        .scalar_subquery()
    )
    rows = session.execute(
        select(Message.conversation_id, func.substr(Message.text, 1, PREVIEW_LENGTH)).where(
            Message.conversation_id.in_(conversation_ids),
            Message.speaker == "customer",
            Message.position == first_position,
        )
    )
    return {conversation_id: text for conversation_id, text in rows}


def transcript_messages(session: Session, conversation: Conversation) -> Sequence[Message]:
    """Every message of a conversation in order, in one query."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.position, Message.id)
    )
    return session.scalars(stmt).all()


# Filter choices, each limited to what the user may see -------------------------------------------


def team_choices(session: Session, user: Any) -> list[tuple[int, str]]:
    stmt = scoped(
        select(Team.id, Team.name, Team.is_active).order_by(Team.is_active.desc(), Team.name),
        Team,
        user,
    )
    return [
        (team_id, name if active else f"{name} (inactive)")
        for team_id, name, active in session.execute(stmt)
    ]


def agent_choices(session: Session, user: Any) -> list[tuple[int, str]]:
    """Agents the user may filter by; agents themselves only ever see their own, so none."""
    if scope_of(user).agent_id is not None:
        return []
    stmt = scoped(
        select(Agent.id, Agent.name, Team.name)
        .join(Team, Agent.team_id == Team.id)
        .order_by(Agent.name, Agent.id),
        Agent,
        user,
    )
    return [(agent_id, f"{name} · {team}") for agent_id, name, team in session.execute(stmt)]


def partner_choices(session: Session, user: Any) -> list[tuple[int, str]]:
    """Partners plus "In-house", only for staff who see every partner; nobody else needs it."""
    if not scope_of(user).everything:
        return []
    partners = session.execute(select(Partner.id, Partner.name).order_by(Partner.name))
    return [(IN_HOUSE, "In-house"), *((partner_id, name) for partner_id, name in partners)]


def channel_choices() -> list[tuple[str, str]]:
    """The channels imports accept; a fixed vocabulary, so no query."""
    return [(channel, channel.capitalize()) for channel in CHANNELS]


def popular_tags(session: Session, user: Any, limit: int = POPULAR_TAG_LIMIT) -> list[str]:
    """The tags most used on the user's latest conversations, most used first.

    Counting over the latest ``POPULAR_TAG_SAMPLE`` conversations keeps the cost flat however
    many there are, and favours the topics of the moment.
    """
    latest = scoped(
        select(Conversation.id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(POPULAR_TAG_SAMPLE),
        Conversation,
        user,
    ).subquery()
    usage = func.count().label("usage")
    stmt = (
        select(ConversationTag.tag, usage)
        .where(ConversationTag.conversation_id.in_(select(latest.c.id)))
        .group_by(ConversationTag.tag)
        .order_by(usage.desc(), ConversationTag.tag)
        .limit(limit)
    )
    return [tag for tag, _ in session.execute(stmt)]


# Presentation helpers (pure) ----------------------------------------------------------------------

REDACTION_NOUNS = {
    "email": ("email", "emails"),
    "phone": ("phone number", "phone numbers"),
    "card": ("card", "cards"),
    "iban": ("IBAN", "IBANs"),
}


def redaction_summary(redactions: Mapping[str, int] | None) -> str:
    """``{"email": 2, "card": 1}`` -> ``"2 emails, 1 card removed"``; empty when nothing was."""
    known = list(REDACTION_NOUNS)
    counts = redactions or {}
    parts = []
    for kind in sorted(counts, key=lambda kind: (known.index(kind) if kind in known else 99, kind)):
        count = int(counts[kind])
        if count > 0:
            singular, plural = REDACTION_NOUNS.get(kind, (kind, kind))
            parts.append(f"{count} {singular if count == 1 else plural}")
    return f"{', '.join(parts)} removed" if parts else ""


def metadata_items(extra: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Free metadata as sorted (key, JSON-encoded value) pairs; templates escape both."""
    return [
        (str(key), json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
        for key, value in sorted((extra or {}).items(), key=lambda item: str(item[0]))
    ]


def format_duration(seconds: int | None) -> str:
    """``754`` -> ``"12m 34s"``, ``3900`` -> ``"1h 05m"``; a dash when unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
