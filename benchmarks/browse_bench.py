"""Conversation browsing speed: the list query, its count and the page extras on N conversations.

Builds a scratch database (a temporary SQLite file by default; on PostgreSQL a dedicated schema,
``bench_browse``, never ``public``), fills it with N synthetic conversations of about 20 messages
each through bare SQLAlchemy Core ``executemany`` in batches, then times what the list page does
for a set of typical filters: the page of 25 conversations, the total count, and the page's extras
(tags, first customer lines). Figures are the median of 5 runs, in milliseconds. The popular-tag
and filter-choice queries every page load also runs are timed at the end.

    python benchmarks/browse_bench.py                                  # N=100000 on SQLite
    python benchmarks/browse_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/browse_bench.py --n 20000 --keep                 # keep the data ...
    python benchmarks/browse_bench.py --database-url sqlite:////tmp/b.sqlite3 --reuse  # reuse
    python benchmarks/browse_bench.py --reuse --index csat_started --explain   # try an index
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Index, event, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app.conversations import browse  # noqa: E402
from qa_app.conversations.browse import ConversationFilters, SortKey  # noqa: E402
from qa_app.conversations.models import Conversation, ConversationTag, Message  # noqa: E402
from qa_app.conversations.search import (  # noqa: E402
    SQLITE_FTS_TABLE,
    create_search_structures,
    drop_search_structures,
)
from qa_app.db import Model, make_engine  # noqa: E402
from qa_app.models import import_all_models  # noqa: E402
from qa_app.org.models import Agent, Partner, Team  # noqa: E402
from qa_app.org.roles import Role  # noqa: E402
from qa_app.org.scope import scoped  # noqa: E402

PG_SCHEMA = "bench_browse"
PARTNERS = 4
TEAMS_PER_PARTNER = 4
IN_HOUSE_TEAMS = 4
AGENTS_PER_TEAM = 20
BATCH = 2000  # conversations per executemany batch (with their ~40k messages)
RUNS = 5
PER_PAGE = 25
FIRST_DAY = datetime(2025, 11, 1, tzinfo=UTC)
DAYS = 365
COMMON_WORD = "order"
RARE_WORD = "quokka"  # in about one conversation in 5,000
CHANNEL_WEIGHTS = {"chat": 45, "email": 30, "phone": 15, "messaging": 8, "social": 2}
TAGS = [f"topic-{number:02d}" for number in range(60)]


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = [
    *_words(
        "the a an and or but if so to for of in on at by with from my your our their this that is"
    ),
    *_words(
        "are was were be been have has had do does did i you we they it me us them not can will"
    ),
]
DOMAIN_WORDS = [
    *_words("refund delivery account password card payment invoice package tracking number please"),
    *_words("thanks sorry help update address email phone subscription plan upgrade cancel charge"),
    *_words("receipt warranty return exchange store online app login reset verify code link issue"),
    *_words(
        "problem question status today tomorrow week month customer agent manager support team"
    ),
    *_words("shipping courier late damaged missing wrong item size colour price discount coupon"),
]


def vocabulary(rng: random.Random) -> list[str]:
    """Function words, then domain words with COMMON_WORD among them, then a long tail."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pe", "zu", "dra", "fen"]
    tail = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(4_000)})
    rng.shuffle(tail)
    return [*FUNCTION_WORDS, *DOMAIN_WORDS[:20], COMMON_WORD, *DOMAIN_WORDS[20:], *tail]


# Indexes to try without touching the models: --index NAME adds them to the scratch schema.
CANDIDATE_INDEXES: dict[str, Callable[[], Index]] = {
    "csat_started": lambda: Index(
        "bench_ix_conversation_csat_started_at", Conversation.csat, Conversation.started_at
    ),
    "tag_conversation": lambda: Index(
        "bench_ix_conversation_tag_tag_conversation_id",
        ConversationTag.tag,
        ConversationTag.conversation_id,
    ),
    "handle_time": lambda: Index(
        "bench_ix_conversation_handle_time", Conversation.handle_time_seconds
    ),
    "message_count": lambda: Index(
        "bench_ix_conversation_message_count", Conversation.message_count
    ),
    "message_speaker": lambda: Index(
        "bench_ix_message_conversation_speaker_position",
        Message.conversation_id,
        Message.speaker,
        Message.position,
    ),
}


@dataclass(frozen=True)
class BenchUser:
    """Just enough of a user for the scope helper."""

    role: Role
    partner_id: int | None = None
    agent_id: int | None = None
    is_authenticated: bool = True


# Database -----------------------------------------------------------------------------------------


def open_engine(url: str) -> Engine:
    if url.startswith("postgresql"):
        # Everything lives in the scratch schema: tables, indexes and the full-text index.
        return make_engine(url, connect_args={"options": f"-c search_path={PG_SCHEMA}"})
    return make_engine(url)


def has_data(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            return bool(connection.scalar(select(func.count()).select_from(Conversation)))
    except Exception:  # noqa: BLE001 - no schema or no table yet: there is nothing to reuse
        return False


def reset_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        else:
            Model.metadata.drop_all(connection)
        Model.metadata.create_all(connection)
        # Bulk loading is far faster without the full-text triggers and index; rebuilt after.
        drop_search_structures(connection)


def drop_scratch(engine: Engine, url: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


# Synthetic data -----------------------------------------------------------------------------------


def sentence_pool(rng: random.Random, size: int = 20_000) -> list[str]:
    words_by_rank = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words_by_rank))]  # Zipf's law
    pool = []
    for _ in range(size):
        words = rng.choices(words_by_rank, weights=weights, k=rng.randint(5, 25))
        pool.append(" ".join(words).capitalize() + rng.choice([".", "?", "!", "."]))
    return pool


def load_organisation(engine: Engine) -> None:
    partners, teams, agents = [], [], []
    team_id = agent_id = 0
    for partner_number in range(PARTNERS + 1):
        in_house = partner_number == PARTNERS
        if not in_house:
            partners.append({"id": partner_number + 1, "name": f"Partner {partner_number + 1}"})
        for _ in range(IN_HOUSE_TEAMS if in_house else TEAMS_PER_PARTNER):
            team_id += 1
            teams.append(
                {
                    "id": team_id,
                    "name": f"Team {team_id}",
                    "partner_id": None if in_house else partner_number + 1,
                }
            )
            for _ in range(AGENTS_PER_TEAM):
                agent_id += 1
                agents.append(
                    {
                        "id": agent_id,
                        "name": f"Agent {agent_id}",
                        "team_id": team_id,
                        "external_id": f"bench-{agent_id}",
                    }
                )
    with engine.begin() as connection:
        connection.execute(Partner.__table__.insert(), partners)
        connection.execute(Team.__table__.insert(), teams)
        connection.execute(Agent.__table__.insert(), agents)


def conversation_batches(
    n: int, rng: random.Random, pool: list[str], agent_teams: list[tuple[int, int]]
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]]:
    channels, channel_weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
    tag_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(TAGS))]
    now = datetime.now(UTC)
    message_id = 0
    for start in range(0, n, BATCH):
        conversations, messages, tags = [], [], []
        for conversation_id in range(start + 1, min(n, start + BATCH) + 1):
            agent_id, team_id = rng.choice(agent_teams)
            started_at = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86_400))
            handle_time = rng.randint(60, 5_400) if rng.random() < 0.9 else None
            count = rng.randint(10, 30)
            conversations.append(
                {
                    "id": conversation_id,
                    "source": "bench",
                    "external_id": f"B-{conversation_id}",
                    "channel": rng.choices(channels, weights=channel_weights)[0],
                    "agent_id": agent_id,
                    "team_id": team_id,
                    "started_at": started_at,
                    "ended_at": started_at + timedelta(seconds=handle_time)
                    if handle_time
                    else None,
                    "handle_time_seconds": handle_time,
                    "csat": rng.randint(1, 5) if rng.random() < 0.6 else None,
                    "status": "solved",
                    "language": "en",
                    "metadata": {"priority": rng.choice(["low", "normal", "high"])},
                    "redactions": {},
                    "message_count": count,
                    "content_hash": f"{conversation_id:064x}",
                    "imported_at": now,
                    "updated_at": now,
                }
            )
            rare = rng.random() < 1 / 5_000
            for position in range(count):
                message_id += 1
                body = rng.choice(pool)
                if rare and position == count // 2:
                    body = f"{body} The {RARE_WORD} mascot arrived broken."
                messages.append(
                    {
                        "id": message_id,
                        "conversation_id": conversation_id,
                        "position": position,
                        "speaker": "customer" if position % 2 == 0 else "agent",
                        "author": None,
                        "text": body,
                        "sent_at": started_at + timedelta(seconds=30 * position),
                    }
                )
            for tag in set(rng.choices(TAGS, weights=tag_weights, k=rng.randint(0, 3))):
                tags.append({"conversation_id": conversation_id, "tag": tag})
        yield conversations, messages, tags


def load(engine: Engine, n: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = sentence_pool(rng)
    load_organisation(engine)
    with engine.connect() as connection:
        agent_teams = [tuple(row) for row in connection.execute(select(Agent.id, Agent.team_id))]
    started = time.perf_counter()
    done = 0
    for conversations, messages, tags in conversation_batches(n, rng, pool, agent_teams):
        with engine.begin() as connection:
            connection.execute(Conversation.__table__.insert(), conversations)
            connection.execute(Message.__table__.insert(), messages)
            if tags:
                connection.execute(ConversationTag.__table__.insert(), tags)
        done += len(conversations)
        if done % 20_000 == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            print(f"  loaded {done:,} conversations ({rate:,.0f}/s)", flush=True)
    print("  building the full-text index ...", flush=True)
    with engine.begin() as connection:
        create_search_structures(connection)
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('rebuild')")
            )
    analyse(engine)


def analyse(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def add_indexes(engine: Engine, names: list[str]) -> None:
    for name in names:
        index = CANDIDATE_INDEXES[name]()
        index.create(engine, checkfirst=True)
        print(f"  added candidate index {index.name}")
    if names:
        analyse(engine)


# Timing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    filters: ConversationFilters
    user: BenchUser
    page: int = 1


def cases(engine: Engine) -> list[Case]:
    staff = BenchUser(Role.QA_SPECIALIST)
    with engine.connect() as connection:
        partner_id = connection.scalar(select(func.min(Partner.id)))
        team_id = connection.scalar(select(func.min(Team.id)).where(Team.partner_id.is_not(None)))
        agent_id = connection.scalar(select(func.min(Agent.id)))
    partner_user = BenchUser(Role.PARTNER_VIEWER, partner_id=partner_id)
    month = date(2026, 3, 1)
    return [
        Case("no filter, page 1", ConversationFilters(), staff),
        Case("no filter, page 200", ConversationFilters(), staff, page=200),
        Case("team", ConversationFilters(team_id=team_id), staff),
        Case("agent", ConversationFilters(agent_id=agent_id), staff),
        Case(
            "channel + 30-day range",
            ConversationFilters(
                channel="email", date_from=month, date_to=month + timedelta(days=29)
            ),
            staff,
        ),
        Case("CSAT 1-2", ConversationFilters(csat_min=1, csat_max=2), staff),
        Case("tag (5th most used)", ConversationFilters(tags=(TAGS[4],)), staff),
        Case("two tags", ConversationFilters(tags=(TAGS[0], TAGS[1])), staff),
        Case(f"search common '{COMMON_WORD}'", ConversationFilters(q=COMMON_WORD), staff),
        Case(f"search rare '{RARE_WORD}'", ConversationFilters(q=RARE_WORD), staff),
        Case("partner-scoped", ConversationFilters(), partner_user),
        Case(
            "partner-scoped + search common",
            ConversationFilters(q=COMMON_WORD),
            partner_user,
        ),
        Case("sort CSAT low to high", ConversationFilters(sort=SortKey.CSAT_LOW), staff),
        Case("sort CSAT high to low", ConversationFilters(sort=SortKey.CSAT_HIGH), staff),
        Case("sort longest", ConversationFilters(sort=SortKey.LONGEST), staff),
        Case("sort most messages", ConversationFilters(sort=SortKey.MOST_MESSAGES), staff),
    ]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def run_case(engine: Engine, case: Case) -> dict[str, Any]:
    dialect = engine.dialect.name
    figures: dict[str, list[float]] = {"page": [], "count": [], "extras": [], "total": []}
    total = 0
    for run in range(RUNS + 1):  # the first run warms caches and is not counted
        with Session(engine) as session:
            stmt = scoped(browse.conversation_query(case.filters, dialect), Conversation, case.user)
            count_ms, total = timed(
                lambda: session.scalar(
                    select(func.count()).select_from(stmt.order_by(None).subquery())  # noqa: B023
                )
            )
            page_stmt = stmt.options(*browse.list_loading())
            offset = (case.page - 1) * PER_PAGE
            page_ms, items = timed(
                lambda: session.scalars(page_stmt.limit(PER_PAGE).offset(offset)).all()  # noqa: B023
            )
            extras_ms, _ = timed(
                lambda: browse.first_customer_lines(session, [c.id for c in items])  # noqa: B023
            )
        if run:
            figures["page"].append(page_ms)
            figures["count"].append(count_ms)
            figures["extras"].append(extras_ms)
            figures["total"].append(page_ms + count_ms + extras_ms)
    return {"rows": total, **{key: statistics.median(values) for key, values in figures.items()}}


def run_page_extras(engine: Engine) -> list[tuple[str, float]]:
    """The queries every list page runs besides the list: filter choices and popular tags."""
    staff = BenchUser(Role.QA_SPECIALIST)
    with engine.connect() as connection:
        partner_id = connection.scalar(select(func.min(Partner.id)))
    partner_user = BenchUser(Role.PARTNER_VIEWER, partner_id=partner_id)
    results = []
    for name, action in [
        ("popular tags (staff)", lambda s: browse.popular_tags(s, staff)),
        ("popular tags (partner)", lambda s: browse.popular_tags(s, partner_user)),
        (
            "team + agent + partner choices",
            lambda s: (
                browse.team_choices(s, staff),
                browse.agent_choices(s, staff),
                browse.partner_choices(s, staff),
            ),
        ),
    ]:
        samples = []
        for run in range(RUNS + 1):
            with Session(engine) as session:
                elapsed, _ = timed(lambda: action(session))  # noqa: B023
            if run:
                samples.append(elapsed)
        results.append((name, statistics.median(samples)))
    return results


def explain(engine: Engine, case: Case) -> str:
    """The database's plan for the case's page query, run with the very SQL and parameters."""
    dialect = engine.dialect.name
    stmt = scoped(browse.conversation_query(case.filters, dialect), Conversation, case.user)
    stmt = stmt.limit(PER_PAGE).offset((case.page - 1) * PER_PAGE)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", record)
        connection.execute(stmt).all()
        event.remove(connection, "before_cursor_execute", record)
        statement, parameters = seen[-1]
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join("    " + " | ".join(str(value) for value in row) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="conversations to generate")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the scratch database (default: a temporary SQLite file); "
        f"on PostgreSQL only the schema {PG_SCHEMA} is used",
    )
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--keep", action="store_true", help="keep the scratch data afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse data kept by a previous run")
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        choices=sorted(CANDIDATE_INDEXES),
        help="add a candidate index to the scratch schema before timing (repeatable)",
    )
    parser.add_argument("--explain", action="store_true", help="print each case's query plan")
    args = parser.parse_args()

    import_all_models()
    temporary = None
    url = args.database_url
    if url is None:
        temporary = tempfile.mkdtemp(prefix="browse_bench_")
        url = f"sqlite:///{temporary}/bench.sqlite3"
    engine = open_engine(url)
    print(f"database: {engine.url.render_as_string(hide_password=True)} ({engine.dialect.name})")
    if args.reuse and has_data(engine):
        with engine.connect() as connection:
            existing = connection.scalar(select(func.count()).select_from(Conversation))
        print(f"reusing {existing:,} conversations")
    else:
        print(f"generating {args.n:,} conversations ...")
        reset_schema(engine)
        started = time.perf_counter()
        load(engine, args.n, args.seed)
        print(f"  loaded in {time.perf_counter() - started:,.1f} s")
    add_indexes(engine, args.index)

    with engine.connect() as connection:
        messages = connection.scalar(select(func.count()).select_from(Message))
    print(f"{messages:,} messages; median of {RUNS} runs, {PER_PAGE} per page, milliseconds\n")
    header = f"{'case':<34} {'matches':>9} {'page':>8} {'count':>8} {'extras':>8} {'total':>8}"
    print(header)
    print("-" * len(header))
    slow = []
    for case in cases(engine):
        result = run_case(engine, case)
        print(
            f"{case.name:<34} {result['rows']:>9,} {result['page']:>8.1f} {result['count']:>8.1f}"
            f" {result['extras']:>8.1f} {result['total']:>8.1f}",
            flush=True,
        )
        if result["total"] > 300:
            slow.append(case.name)
        if args.explain:
            print(explain(engine, case))
    print()
    for name, elapsed in run_page_extras(engine):
        print(f"{name:<34} {'':>9} {elapsed:>8.1f}")
    if slow:
        print(f"\nslower than 300 ms: {', '.join(slow)}")

    if args.keep:
        print(f"\nkept the data: rerun with --database-url {url} --reuse")
        engine.dispose()
    else:
        drop_scratch(engine, url)
        if temporary:
            Path(temporary).rmdir()


if __name__ == "__main__":
    main()
