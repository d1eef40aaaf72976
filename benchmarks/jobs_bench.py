"""Background jobs: throughput through one and two worker processes, and enqueue-to-start time.

For each queue backend (SqliteHuey in a scratch file, RedisHuey on database 15 of the local
server under a queue name of its own, flushed afterwards) it runs the real consumer in a child
process, as ``flask worker --workers N --worker-type process`` does, on a scratch SQLite app
database (or ``--database-url``; on PostgreSQL in a scratch schema, dropped afterwards), with a
job kind that does nothing, so that the figures are the queue's and the job table's own cost
(claim, heartbeat thread, outcome: three short commits):

* ``jobs/s``:     ``--jobs`` jobs enqueued in one transaction, until the last is done;
* ``start p50/p95``: ``--samples`` jobs enqueued one at a time at random intervals (0.05-1 s,
  an idle worker between them), from the commit to the job's ``started_at``. SQLite is polled
  (at most every second, huey backing off while the queue is empty); Redis blocks on the queue.

    python benchmarks/jobs_bench.py                    # 1,000 jobs, 40 samples, both backends
    python benchmarks/jobs_bench.py --jobs 200 --no-redis
    python benchmarks/jobs_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app import create_app  # noqa: E402
from qa_app.db import Model  # noqa: E402
from qa_app.jobs import services  # noqa: E402
from qa_app.jobs.models import Job, JobState  # noqa: E402
from qa_app.jobs.queue import queue_for  # noqa: E402
from qa_app.jobs.registry import JobContext, register_kind  # noqa: E402
from qa_app.jobs.worker import make_consumer  # noqa: E402
from qa_app.models import import_all_models  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/15"
NOOP = "bench_noop"


def noop(session: Session, job: JobContext) -> dict[str, Any]:
    return {"ok": True}


register_kind(NOOP, noop, label="Benchmark no-op")  # registered before the workers fork


def build_app(database_url: str, queue_url: str) -> Flask:
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "QA_JOBS_URL": queue_url,
            "QA_JOBS_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        }
    )
    import_all_models()
    Model.metadata.create_all(app.extensions["qa_db_engine"])
    return app


def sessions(app: Flask) -> Session:
    session: Session = app.extensions["qa_db_sessionmaker"]()
    return session


def start_consumer(app: Flask, workers: int) -> Any:
    """The consumer in a child process, with ``workers`` forked worker processes."""
    app.extensions["qa_db_engine"].dispose()
    queue_for(app).huey.storage.close()

    def run() -> None:
        logging.disable(logging.WARNING)
        make_consumer(app, workers=workers, worker_type="process").run()

    process = multiprocessing.get_context("fork").Process(target=run, daemon=False)
    process.start()
    return process


def stop_consumer(process: Any) -> None:
    os.kill(process.pid, signal.SIGINT)  # graceful: running jobs finish
    process.join(15)
    if process.is_alive():
        process.terminate()
        process.join()


def enqueue(app: Flask, count: int) -> list[int]:
    with app.app_context(), sessions(app) as session:
        ids = [services.enqueue(session, NOOP, {}, by=None).id for _ in range(count)]
        session.commit()
    return ids


def wait_done(app: Flask, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    with sessions(app) as session:
        while True:
            done = session.scalar(
                select(func.count()).select_from(Job).where(Job.state == JobState.DONE)
            )
            if done is not None and done >= count:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done} of {count} jobs done after {timeout} s")
            session.rollback()
            time.sleep(0.01)


def reset(app: Flask) -> None:
    with sessions(app) as session:
        session.execute(delete(Job))
        session.commit()


def warm_up(app: Flask) -> None:
    """One job through, so the workers are up before the clock starts."""
    enqueue(app, 1)
    wait_done(app, 1, timeout=60)
    reset(app)


def throughput(app: Flask, workers: int, jobs: int) -> float:
    consumer = start_consumer(app, workers)
    try:
        warm_up(app)
        started = time.perf_counter()
        enqueue(app, jobs)
        wait_done(app, jobs)
        elapsed = time.perf_counter() - started
    finally:
        stop_consumer(consumer)
        reset(app)
    return jobs / elapsed


def start_delays(app: Flask, samples: int, seed: int = 7) -> list[float]:
    """Seconds from the commit of each job to its start, one worker, idle in between."""
    spacing = random.Random(seed)
    committed: dict[int, datetime] = {}
    consumer = start_consumer(app, 1)
    try:
        warm_up(app)
        for _ in range(samples):
            time.sleep(spacing.uniform(0.05, 1.0))
            with app.app_context(), sessions(app) as session:
                job = services.enqueue(session, NOOP, {}, by=None)
                committed[job.id] = datetime.now(UTC)
                session.commit()
        wait_done(app, samples)
        with sessions(app) as session:
            started = {
                row.id: row.started_at for row in session.execute(select(Job.id, Job.started_at))
            }
    finally:
        stop_consumer(consumer)
        reset(app)
    return [(started[job_id] - moment).total_seconds() for job_id, moment in committed.items()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.3).ping())
    except redis.RedisError:
        return False


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """On PostgreSQL, a schema of the run's own (dropped at the end); other URLs unchanged."""
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"jobs_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per throughput run")
    parser.add_argument("--samples", type=int, default=40, help="jobs timed from commit to start")
    parser.add_argument("--no-redis", action="store_true", help="SQLite queue only")
    parser.add_argument("--database-url", help="app database (default: a scratch SQLite file)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jobs_bench_"))
    with scratch_schema(args.database_url or f"sqlite:///{scratch / 'app.sqlite3'}") as url:
        run(args, scratch, url)


def run(args: argparse.Namespace, scratch: Path, database_url: str) -> None:
    backends = {"SqliteHuey": f"sqlite:///{scratch / 'jobs.sqlite3'}"}
    if not args.no_redis:
        if redis_up():
            backends["RedisHuey"] = REDIS_URL
        else:
            print(f"no Redis at {REDIS_URL}: SqliteHuey only", file=sys.stderr)
    print(f"app database: {database_url.split(':')[0]}; {os.cpu_count()} cores")
    rows = []
    for label, queue_url in backends.items():
        app = build_app(database_url, queue_url)
        one = throughput(app, 1, args.jobs)
        two = throughput(app, 2, args.jobs)
        delays = start_delays(app, args.samples)
        queue_for(app).huey.storage.flush_all()
        rows.append(
            (label, one, two, statistics.median(delays) * 1000, percentile(delays, 0.95) * 1000)
        )
    print(f"\n{'queue':<12} {'1 worker':>12} {'2 workers':>12} {'start p50':>11} {'start p95':>11}")
    for label, one, two, p50, p95 in rows:
        print(f"{label:<12} {one:>8.0f} j/s {two:>8.0f} j/s {p50:>8.0f} ms {p95:>8.0f} ms")


if __name__ == "__main__":
    main()
