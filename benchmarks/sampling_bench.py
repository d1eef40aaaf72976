"""Sampling speed: preview and every strategy's selection over 1,000,000 conversations.

Builds a scratch SQLite file and a scratch PostgreSQL database (``qa_sampling_bench``, created
through the ``postgres`` maintenance database; the ``test`` database is never touched) with the
schema of ``Model.metadata.create_all``, and fills them with bare Core ``executemany``: N
conversations started within November 2026 over 500 agents in 20 teams (8 of them of 3
partners), about a third of them tagged, 1% with an open assignment and 2% already reviewed.
They are inserted roughly in order of start, as imports bring them; ``--shuffled`` inserts them
in random order instead, the worst case for reading a period's rows from the table.

Then, for the month (every conversation is in the window) and for one ISO week of it, it times
(median of ``--repeat`` runs, after the data is ANALYZEd):

* ``count``:     the candidate count alone (filters, reviewed and open-assignment exclusions);
* ``preview``:   ``engine.preview``: candidates and conversations to sample per stratum;
* ``select``:    ``engine.select_sample``: the strata and the chosen rows, as a run makes them;

for uniform (500), quota per agent (5 each), proportional stratified by team (500) and
risk-weighted (500). The sampling engine turns PostgreSQL's JIT compilation off for its
statements; ``--jit`` also times them with JIT on. ``--extra-index`` adds a covering index for
the candidate scan (``conversation (started_at, id, agent_id, team_id, channel, csat,
handle_time_seconds)``) and times everything again, to show what it would gain.

    python benchmarks/sampling_bench.py                        # N=1,000,000, both databases
    python benchmarks/sampling_bench.py --rows 50000 --no-postgres
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app.db import Model, make_engine  # noqa: E402
from qa_app.models import import_all_models  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "qa_sampling_bench"
PARTNERS = 3
TEAMS = 20
PARTNER_TEAMS = 8
AGENTS = 500
BATCH = 10_000
MONTH = "2026-11"
WEEK = "2026-W47"
CHANNELS = ["chat", "email", "phone", "messaging", "social"]
TAGS = ["billing", "refund", "shipping", "login", "complaint", "vip"]
EXTRA_INDEX = (
    "CREATE INDEX ix_bench_conversation_sampling ON conversation "
    "(started_at, id, agent_id, team_id, channel, csat, handle_time_seconds)"
)


def now() -> datetime:
    return datetime.now(UTC)


def create_database(url: str) -> Engine:
    if url.startswith("postgresql"):
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {POSTGRES_BENCH_DB}"))
        admin.dispose()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    import_all_models()
    engine = make_engine(url)
    Model.metadata.create_all(engine)
    return engine


def fill(engine: Engine, rows: int, *, shuffled: bool = False, seed: int = 7) -> float:
    """Insert the organisation and ``rows`` conversations; returns the seconds it took."""
    from qa_app.auth.models import User
    from qa_app.conversations.models import Conversation, ConversationTag
    from qa_app.org.models import Agent, Partner, Team
    from qa_app.reviews.models import Review
    from qa_app.sampling.models import ReviewAssignment
    from qa_app.scorecards.models import Scorecard, ScorecardVersion

    rng = random.Random(seed)
    started = time.perf_counter()
    stamp = now()
    with engine.begin() as connection:
        connection.execute(
            insert(Partner.__table__),
            [
                {"id": i + 1, "name": f"Partner {i}", "is_active": True, "created_at": stamp}
                for i in range(PARTNERS)
            ],
        )
        connection.execute(
            insert(Team.__table__),
            [
                {
                    "id": i + 1,
                    "name": f"Team {i}",
                    "partner_id": i % PARTNERS + 1 if i < PARTNER_TEAMS else None,
                    "is_active": True,
                    "created_at": stamp,
                }
                for i in range(TEAMS)
            ],
        )
        connection.execute(
            insert(Agent.__table__),
            [
                {
                    "id": i + 1,
                    "external_id": f"ag-{i}",
                    "name": f"Agent {i}",
                    "team_id": i % TEAMS + 1,
                    "status": "active",
                    "created_at": stamp,
                }
                for i in range(AGENTS)
            ],
        )
        connection.execute(
            insert(User.__table__),
            [
                {
                    "id": 1,
                    "email": "qa@bench",
                    "name": "QA",
                    "password_hash": "x",
                    "role": "qa_specialist",
                    "is_active": True,
                    "session_token": "t",
                    "failed_logins": 0,
                    "created_at": stamp,
                }
            ],
        )
        connection.execute(
            insert(Scorecard.__table__),
            [{"id": 1, "name": "Bench", "description": "", "is_active": True, "created_at": stamp}],
        )
        connection.execute(
            insert(ScorecardVersion.__table__),
            [
                {
                    "id": 1,
                    "scorecard_id": 1,
                    "number": 1,
                    "status": "published",
                    "change_note": "",
                    "created_at": stamp,
                }
            ],
        )
    month_start = datetime(2026, 11, 1, tzinfo=UTC)
    seconds = 30 * 86400
    conversation_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(Conversation.__table__), conversation_rows)
            if tag_rows:
                connection.execute(insert(ConversationTag.__table__), tag_rows)
            if reviews:
                connection.execute(insert(Review.__table__), reviews)
            if assignments:
                connection.execute(insert(ReviewAssignment.__table__), assignments)
        for batch in (conversation_rows, tag_rows, reviews, assignments):
            batch.clear()

    for number in range(1, rows + 1):
        agent = rng.randrange(AGENTS)
        if shuffled:
            offset = rng.randrange(seconds)
        else:  # in arrival order give or take an hour, as imports bring them
            offset = min(max(0, number * seconds // rows + rng.randrange(-3600, 3600)), seconds - 1)
        begun = month_start + timedelta(seconds=offset)
        handle = int(rng.lognormvariate(6.3, 0.8))
        conversation_rows.append(
            {
                "id": number,
                "source": "bench",
                "external_id": f"c-{number}",
                "channel": rng.choice(CHANNELS),
                "agent_id": agent + 1,
                "team_id": agent % TEAMS + 1,
                "started_at": begun,
                "ended_at": begun + timedelta(seconds=handle),
                "handle_time_seconds": handle,
                "csat": rng.choice([None, None, None, 1, 2, 3, 4, 4, 5, 5]),
                "metadata": {},
                "redactions": {},
                "message_count": 0,
                "content_hash": "0" * 64,
                "imported_at": begun,
                "updated_at": begun,
            }
        )
        draw = rng.random()
        tags = set(rng.sample(TAGS, rng.randint(1, 2))) if draw < 0.3 else set()
        if draw < 0.05:
            tags.add("escalated")
        if 0.04 < draw < 0.07:
            tags.add("reopened")
        tag_rows.extend({"conversation_id": number, "tag": tag} for tag in sorted(tags))
        fate = rng.random()
        if fate < 0.02:
            reviews.append(
                {
                    "conversation_id": number,
                    "scorecard_version_id": 1,
                    "reviewer_id": 1,
                    "status": "submitted",
                    "auto_failed": False,
                    "section_scores": {},
                    "overall_comment": "",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        elif fate < 0.03:
            assignments.append(
                {
                    "conversation_id": number,
                    "scorecard_id": 1,
                    "reviewer_id": 1,
                    "status": "open",
                    "stratum": "",
                    "weight": 1.0,
                    "reason": "",
                    "created_at": stamp,
                }
            )
        if len(conversation_rows) >= BATCH:
            flush()
    if conversation_rows:
        flush()
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - started


def timed(repeat: int, action: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """The median seconds of ``repeat`` calls of ``action(*args)``, and the last result."""
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action(*args)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def measure(engine: Engine, repeat: int) -> list[tuple[str, str, str, float, str]]:
    """(period, strategy, what, seconds, outcome) for every case."""
    from qa_app.sampling import engine as sampling
    from qa_app.sampling.models import Strategy
    from qa_app.sampling.options import normalise_params
    from qa_app.sampling.periods import parse_period

    strategies = {
        "uniform 500": (Strategy.UNIFORM, {"size": 500}),
        "quota 5/agent": (Strategy.QUOTA, {"per_agent": 5}),
        "stratified team 500": (Strategy.STRATIFIED, {"size": 500, "stratify_by": "team"}),
        "risk-weighted 500": (Strategy.RISK, {"size": 500}),
    }
    results = []
    with Session(engine) as session:
        for label in (MONTH, WEEK):
            period = parse_period(label)
            window = sampling.candidate_window({}, period)
            count = select(func.count()).select_from(
                sampling.candidate_query({}, window).subquery()
            )
            seconds, found = timed(repeat, session.scalar, count)
            results.append((label, "-", "count", seconds, f"{found:,} candidates"))
            for name, (strategy, params) in strategies.items():
                spec = sampling.PlanSpec(strategy, {}, normalise_params(strategy, params), 2026)
                seconds, preview = timed(repeat, sampling.preview, session, spec, period)
                outcome = (
                    f"{preview.candidates:,} candidates, {preview.sampled:,} to sample, "
                    f"{len(preview.strata)} strata"
                )
                results.append((label, name, "preview", seconds, outcome))
                seconds, (_, chosen) = timed(repeat, sampling.select_sample, session, spec, period)
                results.append((label, name, "select", seconds, f"{len(chosen):,} chosen"))
                session.rollback()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--extra-index", action="store_true", help="Also time with a covering index."
    )
    parser.add_argument(
        "--jit", action="store_true", help="PostgreSQL: also time with JIT compilation on."
    )
    parser.add_argument(
        "--shuffled",
        action="store_true",
        help="Insert conversations in random order of start, not roughly chronologically.",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    from qa_app.sampling import engine as sampling

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qa-sampling-bench-"))
    databases = {}
    if not args.no_sqlite:
        databases["sqlite"] = f"sqlite:///{workdir / 'sampling.sqlite3'}"
    if not args.no_postgres:
        databases["postgresql"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_BENCH_DB}"
    table = []
    for name, url in databases.items():
        engine = create_database(url)
        seconds = fill(engine, args.rows, shuffled=args.shuffled)
        print(f"{name}: {args.rows:,} conversations inserted in {seconds:.0f} s", flush=True)
        # (label, DDL to run first, PostgreSQL JIT on): JIT is off in the engine by default.
        variants = [("schema", "", False)]
        if name == "postgresql" and args.jit:
            variants.append(("jit on", "", True))
        if args.extra_index:
            variants.append(("+index", EXTRA_INDEX, False))
        for variant, ddl, jit in variants:
            if ddl:
                with engine.begin() as connection:
                    connection.execute(text(ddl))
                    connection.execute(text("ANALYZE"))
            sampling.DISABLE_POSTGRES_JIT = not jit
            for period, strategy, what, seconds, outcome in measure(engine, args.repeat):
                table.append((name, variant, period, strategy, what, seconds, outcome))
                line = f"{variant:<7} {period:<9} {strategy:<20} {what:<8} {seconds:7.2f} s"
                print(f"  {line}  {outcome}", flush=True)
            sampling.DISABLE_POSTGRES_JIT = True
        engine.dispose()
    print()
    print(
        f"{'database':<11}{'variant':<8}{'period':<10}{'strategy':<21}{'what':<9}"
        f"{'seconds':>8}  result"
    )
    for name, variant, period, strategy, what, seconds, outcome in table:
        print(
            f"{name:<11}{variant:<8}{period:<10}{strategy:<21}{what:<9}{seconds:>8.2f}  {outcome}"
        )


if __name__ == "__main__":
    main()
