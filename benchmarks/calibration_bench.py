"""Calibration results speed: how long the results page's figures take for a large session.

Builds a scratch SQLite file (and, unless ``--no-postgres``, a scratch PostgreSQL database
``qa_calibration_bench`` created through the ``postgres`` maintenance database; the ``test``
database is never touched) with ``Model.metadata.create_all``, the demo's default scorecard
(five sections, yes/no, scale and points criteria), and one revealed session of ``--items``
conversations scored by ``--raters`` raters (a third in-house, the rest split over two partners)
with seeded random answers and a benchmark. Then it times, median of ``--repeat`` runs:

* ``load+compute``: ``results.compute_results`` with 1,000 bootstrap resamples per interval, as
  the results page, the CSV export and the API compute them;
* ``no bootstrap``: the same with ``n_boot=0``, to separate loading and point estimates from the
  bootstrap;
* ``store``: ``trends.store_group_results``, which the reveal and every benchmark change run;
* ``trends``: ``trends.trends`` over ``--sessions`` revealed sessions' stored group figures.

    python benchmarks/calibration_bench.py                   # 30 items x 40 raters, both DBs
    python benchmarks/calibration_bench.py --items 10 --raters 12 --no-postgres
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

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app.auth.models import User  # noqa: E402
from qa_app.calibration import results, trends  # noqa: E402
from qa_app.calibration.models import (  # noqa: E402
    CalibrationAnswer,
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.conversations.models import Conversation  # noqa: E402
from qa_app.db import Model, make_engine  # noqa: E402
from qa_app.demo.scorecard import seed_default_scorecard  # noqa: E402
from qa_app.models import import_all_models  # noqa: E402
from qa_app.org.models import Agent, Partner, Team  # noqa: E402
from qa_app.org.roles import Role  # noqa: E402
from qa_app.reviews.answers import ordered_criteria  # noqa: E402
from qa_app.scorecards.scoring import NA, CriterionKind  # noqa: E402
from qa_app.scorecards.scoring import score_review as score_answers  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "qa_calibration_bench"


def _value(criterion: Any, rng: random.Random) -> str:
    if criterion.allow_na and rng.random() < 0.08:
        return NA
    if criterion.kind == CriterionKind.YES_NO:
        return "yes" if rng.random() < 0.8 else "no"
    top = criterion.scale_max if criterion.kind == CriterionKind.SCALE else criterion.max_points
    low = 1 if criterion.kind == CriterionKind.SCALE else 0
    return str(max(low, min(top, top - int(abs(rng.gauss(0, 1.2))))))


def build(session: Session, *, items: int, raters: int, sessions: int, seed: int) -> int:
    """Fill an empty schema; return the id of the session to time."""
    rng = random.Random(seed)
    scorecard = seed_default_scorecard(session)
    version = scorecard.versions[-1]
    criteria = ordered_criteria(version)
    rules = version.rules()
    partners = [Partner(name="North"), Partner(name="Lumen")]
    session.add_all(partners)
    team = Team(name="Tier 1")
    session.add(team)
    session.flush()
    agent = Agent(name="Agent", external_id="a-1", team_id=team.id)
    session.add(agent)
    users = []
    for number in range(raters):
        partner = None if number < raters // 3 else partners[number % 2]
        role = Role.QA_SPECIALIST if partner is None else Role.PARTNER_QA
        users.append(
            User(
                email=f"rater{number}@bench.example",
                name=f"Rater {number}",
                password_hash="x",
                role=role,
                partner_id=partner.id if partner else None,
            )
        )
    facilitator = User(
        email="lead@bench.example", name="Lead", password_hash="x", role=Role.MANAGER
    )
    session.add_all([*users, facilitator])
    session.flush()
    start = datetime(2026, 10, 1, tzinfo=UTC)
    conversations = [
        Conversation(
            source="bench",
            external_id=f"c{number}",
            channel="chat",
            agent_id=agent.id,
            team_id=team.id,
            started_at=start + timedelta(hours=number),
            content_hash=f"h{number}",
            message_count=0,
        )
        for number in range(items * sessions)
    ]
    session.add_all(conversations)
    session.flush()
    target = 0
    for index in range(sessions):
        calibration = CalibrationSession(
            title=f"Calibration {index + 1}",
            scorecard_version_id=version.id,
            facilitator_id=facilitator.id,
            status=SessionStatus.REVEALED,
            due_at=start + timedelta(days=30 * index),
            revealed_at=start + timedelta(days=30 * index),
        )
        session.add(calibration)
        session.flush()
        chosen = conversations[index * items : (index + 1) * items]
        session.add_all(
            CalibrationItem(session_id=calibration.id, conversation_id=c.id, position=p)
            for p, c in enumerate(chosen)
        )
        session.add_all(
            CalibrationRater(session_id=calibration.id, user_id=u.id, partner_id=u.partner_id)
            for u in users
        )
        for conversation in chosen:
            for rater in [None, *users]:
                values = {c.key: _value(c, rng) for c in criteria}
                answers = {
                    c.key: v if v == NA or c.kind == CriterionKind.YES_NO else int(v)
                    for c, v in zip(criteria, values.values(), strict=True)
                }
                result = score_answers(rules, answers)
                rating = CalibrationRating(
                    session_id=calibration.id,
                    conversation_id=conversation.id,
                    rater_id=rater.id if rater else None,
                    is_benchmark=rater is None,
                    status=RatingStatus.SUBMITTED,
                    score=result.score,
                    auto_failed=result.auto_failed,
                )
                rating.answers = [
                    CalibrationAnswer(criterion_id=c.id, value=values[c.key]) for c in criteria
                ]
                session.add(rating)
        session.flush()
        target = calibration.id
    session.commit()
    for calibration_id in range(1, target + 1):
        row = session.get(CalibrationSession, calibration_id)
        if row is not None:
            trends.store_group_results(
                session, row, results.compute_results(session, row, n_boot=0)
            )
    session.commit()
    return target


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(url: str, args: argparse.Namespace) -> dict[str, float]:
    engine = make_engine(url)
    import_all_models()
    Model.metadata.create_all(engine)
    with Session(engine) as session:
        session_id = build(
            session, items=args.items, raters=args.raters, sessions=args.sessions, seed=args.seed
        )
        calibration = session.get(CalibrationSession, session_id)
        assert calibration is not None

        def compute(n_boot: int) -> Callable[[], Any]:
            def go() -> Any:
                session.expire_all()
                return results.compute_results(session, calibration, n_boot=n_boot)

            return go

        figures = {
            "load+compute": timed(compute(1000), args.repeat),
            "no bootstrap": timed(compute(0), args.repeat),
        }
        computed = results.compute_results(session, calibration, n_boot=0)
        figures["store"] = timed(
            lambda: trends.store_group_results(session, calibration, computed), args.repeat
        )
        session.commit()
        figures["trends"] = timed(lambda: trends.trends(session, months=24), args.repeat)
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--raters", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    answers = args.items * (args.raters + 1) * args.sessions
    print(
        f"{args.items} conversations x {args.raters} raters (+ benchmark) per session,"
        f" {args.sessions} sessions, {answers:,} ratings in all"
    )
    targets = []
    with tempfile.TemporaryDirectory() as scratch:
        targets.append(("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}"))
        if not args.no_postgres:
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB}"))
                connection.execute(text(f"CREATE DATABASE {POSTGRES_BENCH_DB}"))
            targets.append(
                ("postgresql", POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_BENCH_DB)
            )
        for name, url in targets:
            figures = run(url, args)
            print(name.ljust(11) + "  ".join(f"{k} {v * 1000:8.1f} ms" for k, v in figures.items()))
        if not args.no_postgres:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB}"))


if __name__ == "__main__":
    main()
