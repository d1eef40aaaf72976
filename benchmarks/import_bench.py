"""Import speed: the CLI importer against a bare SQLAlchemy Core executemany of the same rows.

Generates N synthetic conversations (about 20 messages each) as a gzip JSON Lines file, then for
each database (SQLite file, and PostgreSQL when --postgres is given):

* bare:  the same conversations, messages and tags inserted with Core ``executemany`` in batches,
  no parsing, validation, redaction or upsert logic (the floor the importer is measured against);
* cli:   ``flask --app qa_app import-conversations FILE`` in a child process, timed end to end,
  with the child's peak memory (ru_maxrss);
* again: the same CLI import a second time (every conversation unchanged).

Both start from a freshly migrated schema with the agents already known. Run with --sizes to see
whether memory stays flat as N grows, e.g. ``--sizes 10000 100000``.

    python benchmarks/import_bench.py                       # N=100000, SQLite and PostgreSQL
    python benchmarks/import_bench.py --sizes 5000 --no-postgres
    python benchmarks/import_bench.py --no-sqlite --workdir /tmp/bench   # keeps the file
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "qa_import_bench"
AGENTS = 200
TEAMS = 10
BATCH = 1000

WORDS = [
    "order",
    "refund",
    "delivery",
    "account",
    "password",
    "card",
    "payment",
    "invoice",
    "package",
    "tracking",
    "number",
    "please",
    "thanks",
    "sorry",
    "help",
    "update",
    "address",
    "email",
    "phone",
    "subscription",
    "plan",
    "upgrade",
    "cancel",
    "charge",
    "receipt",
    "warranty",
    "return",
    "exchange",
    "store",
    "online",
    "app",
    "login",
    "reset",
    "verify",
    "identity",
    "today",
    "tomorrow",
    "week",
    "days",
    "hours",
    "minutes",
    "shipping",
    "courier",
    "label",
    "damaged",
    "missing",
    "item",
    "size",
    "colour",
    "price",
    "discount",
    "code",
    "voucher",
    "balance",
    "bank",
    "transfer",
    "confirm",
    "check",
    "moment",
    "certainly",
    "understand",
    "frustrating",
    "apologise",
    "resolve",
    "escalate",
    "team",
    "manager",
    "ticket",
    "case",
    "reference",
]
TAGS = ["billing", "refund", "shipping", "login", "escalated", "reopened", "complaint", "vip"]
CHANNELS = ["chat", "email", "phone", "messaging", "social"]


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 28))
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", "."])


def synthetic(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """N canonical conversations with ~20 messages each; deterministic for a seed."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(n):
        began = start + timedelta(seconds=rng.randint(0, 300 * 86400))
        messages = []
        at = began
        for position in range(rng.randint(14, 26)):
            at += timedelta(seconds=rng.randint(5, 120))
            text_ = sentence(rng)
            if rng.random() < 0.01:
                text_ += f" You can reach me at user{number}@example.com."
            messages.append(
                {
                    "speaker": "customer" if position % 2 == 0 else "agent",
                    "text": text_,
                    "sent_at": at.isoformat(),
                }
            )
        agent = rng.randrange(AGENTS)
        yield {
            "external_id": f"bench-{number:08d}",
            "source": "bench",
            "channel": rng.choice(CHANNELS),
            "agent": {"external_id": f"bench-ag-{agent:04d}", "name": f"Agent {agent}"},
            "started_at": began.isoformat(),
            "ended_at": (at + timedelta(seconds=30)).isoformat(),
            "csat": rng.choice([None, None, 1, 2, 3, 4, 5, 5]),
            "tags": sorted(set(rng.sample(TAGS, rng.randint(0, 3)))),
            "language": "en",
            "messages": messages,
        }


def write_file(path: Path, n: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for conversation in synthetic(n):
            out.write(json.dumps(conversation) + "\n")


def prepare_database(url: str) -> None:
    """A freshly migrated schema with the bench teams and agents already in it."""
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
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "qa_app", "db", "upgrade"],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    from qa_app.db import make_engine
    from qa_app.models import import_all_models
    from qa_app.org.models import Agent, Team

    import_all_models()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(Team.__table__),
            [
                {"id": i + 1, "name": f"Bench team {i}", "is_active": True, "created_at": now()}
                for i in range(TEAMS)
            ],
        )
        connection.execute(
            insert(Agent.__table__),
            [
                {
                    "id": i + 1,
                    "external_id": f"bench-ag-{i:04d}",
                    "name": f"Agent {i}",
                    "team_id": i % TEAMS + 1,
                    "status": "active",
                    "created_at": now(),
                }
                for i in range(AGENTS)
            ],
        )
        if url.startswith("postgresql"):
            for table in ("team", "agent"):
                connection.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
    engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def bare_insert(url: str, n: int) -> float:
    """Insert the same rows with Core executemany: conversations, then messages and tags."""
    from qa_app.conversations.models import Conversation, ConversationTag, Message
    from qa_app.db import make_engine

    engine = make_engine(url)
    conversations, messages, tags = [], [], []
    started = time.perf_counter()

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(Conversation.__table__), conversations)
            connection.execute(insert(Message.__table__), messages)
            if tags:
                connection.execute(insert(ConversationTag.__table__), tags)
        conversations.clear()
        messages.clear()
        tags.clear()

    # Rows are built outside the timed part as far as possible: parse times are not counted.
    build_seconds = 0.0
    for number, record in enumerate(synthetic(n), start=1):
        build_started = time.perf_counter()
        agent = int(record["agent"]["external_id"].rsplit("-", 1)[1])
        begun = datetime.fromisoformat(record["started_at"])
        ended = datetime.fromisoformat(record["ended_at"])
        conversations.append(
            {
                "id": number,
                "source": record["source"],
                "external_id": record["external_id"],
                "channel": record["channel"],
                "agent_id": agent + 1,
                "team_id": agent % TEAMS + 1,
                "started_at": begun,
                "ended_at": ended,
                "handle_time_seconds": int((ended - begun).total_seconds()),
                "csat": record["csat"],
                "language": "en",
                "metadata": {},
                "redactions": {},
                "message_count": len(record["messages"]),
                "content_hash": "0" * 64,
                "imported_at": begun,
                "updated_at": begun,
            }
        )
        for position, message in enumerate(record["messages"]):
            messages.append(
                {
                    "conversation_id": number,
                    "position": position,
                    "speaker": message["speaker"],
                    "author": None,
                    "text": message["text"],
                    "sent_at": datetime.fromisoformat(message["sent_at"]),
                }
            )
        tags.extend({"conversation_id": number, "tag": tag} for tag in record["tags"])
        build_seconds += time.perf_counter() - build_started
        if len(conversations) >= BATCH:
            flush()
    if conversations:
        flush()
    elapsed = time.perf_counter() - started - build_seconds
    engine.dispose()
    return elapsed


CHILD = """
import resource, sys
from flask.cli import main
sys.argv = ["flask", "--app", "qa_app", "import-conversations", sys.argv[1]]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def cli_import(url: str, path: Path) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stdout}\n{done.stderr}")
    rss = next(
        int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("MAXRSS_KB")
    )
    return elapsed, rss, done.stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qa-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    databases = {} if args.no_sqlite else {"sqlite": f"sqlite:///{workdir / 'bench.sqlite3'}"}
    if not args.no_postgres:
        databases["postgresql"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_BENCH_DB}"
    rows = []
    for n in args.sizes:
        path = workdir / f"conversations-{n}.jsonl.gz"
        if not path.exists():
            started = time.perf_counter()
            write_file(path, n)
            print(
                f"generated {n} conversations in {time.perf_counter() - started:.1f} s", flush=True
            )
        for name, url in databases.items():
            prepare_database(url)
            bare = bare_insert(url, n)
            prepare_database(url)
            cli, rss, summary = cli_import(url, path)
            again, again_rss, again_summary = cli_import(url, path)
            print(f"{name} N={n}: {summary} | again: {again_summary}", flush=True)
            rows.append((name, n, n / bare, n / cli, cli / bare, rss, n / again, again_rss))
    print()
    header = (
        f"{'database':<11}{'N':>9}{'bare conv/s':>13}{'cli conv/s':>12}{'cli/bare':>10}"
        f"{'peak MB':>9}{'re-import/s':>13}{'peak MB':>9}"
    )
    print(header)
    for name, n, bare_rate, cli_rate, _, rss, again_rate, again_rss in rows:
        print(
            f"{name:<11}{n:>9}{bare_rate:>13.0f}{cli_rate:>12.0f}{cli_rate / bare_rate:>10.2f}"
            f"{rss / 1024:>9.0f}{again_rate:>13.0f}{again_rss / 1024:>9.0f}"
        )


if __name__ == "__main__":
    main()
