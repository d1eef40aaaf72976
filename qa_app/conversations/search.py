"""Full-text search over message text: FTS5 on SQLite, a GIN tsvector index on PostgreSQL.

The search structures are not ORM tables; they are created with the message table (in tests,
through metadata events) and by the migration that adds conversations, from the same statements.
"""

from __future__ import annotations

import re

from sqlalchemy import DDL, Connection, Select, event, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement

from qa_app.conversations.models import Conversation, Message

SQLITE_FTS_TABLE = "message_fts"
POSTGRES_FTS_INDEX = "ix_message_text_fts"
TS_CONFIG = "simple"  # no stemming: support text mixes languages, product names and codes

SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {SQLITE_FTS_TABLE} USING fts5("
    "text, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_ai AFTER INSERT ON message BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_ad AFTER DELETE ON message BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_au AFTER UPDATE ON message BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {SQLITE_FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DROP = [f"DROP TABLE IF EXISTS {SQLITE_FTS_TABLE}"] + [
    f"DROP TRIGGER IF EXISTS {SQLITE_FTS_TABLE}_{suffix}" for suffix in ("ai", "ad", "au")
]
POSTGRES_DDL = [
    f"CREATE INDEX {POSTGRES_FTS_INDEX} ON message USING gin (to_tsvector('{TS_CONFIG}', text))"
]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {POSTGRES_FTS_INDEX}"]


def create_search_structures(connection: Connection) -> None:
    statements = {"sqlite": SQLITE_DDL, "postgresql": POSTGRES_DDL}.get(connection.dialect.name, [])
    for statement in statements:
        connection.execute(text(statement))


def drop_search_structures(connection: Connection) -> None:
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(
        connection.dialect.name, []
    )
    for statement in statements:
        connection.execute(text(statement))


for _statement in SQLITE_DDL:
    event.listen(Message.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_DDL:
    event.listen(
        Message.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
event.listen(Message.__table__, "before_drop", DDL(SQLITE_DROP[0]).execute_if(dialect="sqlite"))


def _fts5_query(query: str) -> str:
    """Quote every word so user input is never read as FTS5 syntax; all words must match."""
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " ".join(f'"{word}"' for word in words)


def matching_conversations(dialect_name: str, query: str) -> ColumnElement[bool]:
    """A condition on Conversation: some message contains every word of ``query``."""
    if dialect_name == "sqlite":
        fts_query = _fts5_query(query)
        if not fts_query:
            return literal_column("1") == 1
        matches: Select[int] = (
            select(Message.conversation_id)
            .where(
                Message.id.in_(
                    select(literal_column("rowid"))
                    .select_from(text(SQLITE_FTS_TABLE))
                    .where(text(f"{SQLITE_FTS_TABLE} MATCH :fts_query"))
                )
            )
            .params(fts_query=fts_query)
        )
        return Conversation.id.in_(matches)
    if dialect_name == "postgresql":
        vector = func.to_tsvector(literal_column(f"'{TS_CONFIG}'"), Message.text)
        tsquery = func.plainto_tsquery(literal_column(f"'{TS_CONFIG}'"), query)
        return Conversation.id.in_(select(Message.conversation_id).where(vector.op("@@")(tsquery)))
    pattern = f"%{query.lower()}%"
    return Conversation.id.in_(
        select(Message.conversation_id).where(func.lower(Message.text).like(pattern))
    )
