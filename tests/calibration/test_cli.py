"""`flask schedule-calibration`: a month's session, sampled, once; bad input writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration.models import CalibrationItem, CalibrationRater, CalibrationSession
from qa_app.conversations.models import Conversation
from qa_app.org.roles import Role
from tests.conftest import Factory
from tests.reviews.factories import Card, published_scorecard

SOURCE = "2026-10"  # the factory's conversations start on 2026-10-01


def _next_month() -> str:
    today = datetime.now(UTC).date()
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following.strftime("%Y-%m")


MONTH = _next_month()


@dataclass
class World:
    card: Card
    manager: User
    qa: User
    north_qa: User
    lumen_qa: User
    in_house: list[Conversation]
    partner: list[Conversation]


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    north, lumen = make.partner("North"), make.partner("Lumen")
    in_house_agent = make.agent(make.team("Tier 1"))
    north_agent = make.agent(make.team("North chat", north))
    return World(
        card=published_scorecard(db),
        manager=make.user(Role.MANAGER, email="manager@example.org"),
        qa=make.user(Role.QA_SPECIALIST, email="qa@example.org"),
        north_qa=make.user(Role.PARTNER_QA, partner=north, email="north.qa@example.org"),
        lumen_qa=make.user(Role.PARTNER_QA, partner=lumen, email="lumen.qa@example.org"),
        in_house=[make.conversation(in_house_agent) for _ in range(8)],
        partner=[make.conversation(north_agent) for _ in range(3)],
    )


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def schedule(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["schedule-calibration", "--month", MONTH, *args])


def test_schedule_creates_the_months_session_with_sampled_conversations(
    runner: Any, db: Session, world: World
) -> None:
    result = schedule(runner, "--from-period", SOURCE, "--seed", "7")
    assert result.exit_code == 0, result.output
    calibration = db.scalars(select(CalibrationSession)).one()
    assert calibration.series_key == f"{world.card.scorecard.id}:{MONTH}"
    assert calibration.title == f"{datetime.strptime(MONTH, '%Y-%m'):%B %Y} calibration"
    assert calibration.facilitator_id == world.manager.id
    assert calibration.scorecard_version_id == world.card.version.id
    assert calibration.due_at.strftime("%Y-%m-%d %H:%M") == f"{MONTH}-20 23:59"
    # Every QA specialist and partner QA; with two partners, in-house conversations only.
    assert {rater.user_id for rater in calibration.raters} == {
        world.qa.id,
        world.north_qa.id,
        world.lumen_qa.id,
    }
    chosen = [item.conversation_id for item in calibration.items]
    assert len(chosen) == 5
    assert set(chosen) <= {conversation.id for conversation in world.in_house}
    assert f"Created session {calibration.id} {calibration.title!r}" in result.output
    assert "3 raters (1 in-house, 2 partner)." in result.output
    assert f"5 conversations from {SOURCE}:" in result.output
    assert f"#{chosen[0]} " in result.output


def test_the_same_seed_samples_the_same_conversations(
    runner: Any, db: Session, world: World
) -> None:
    first = schedule(runner, "--from-period", SOURCE, "--seed", "3", "--conversations", "4")
    assert first.exit_code == 0, first.output
    chosen = list(db.scalars(select(CalibrationItem.conversation_id).order_by(CalibrationItem.id)))
    for model in (CalibrationItem, CalibrationRater, CalibrationSession):
        db.execute(delete(model))
    db.commit()
    again = schedule(runner, "--from-period", SOURCE, "--seed", "3", "--conversations", "4")
    assert again.exit_code == 0, again.output
    assert (
        list(db.scalars(select(CalibrationItem.conversation_id).order_by(CalibrationItem.id)))
        == chosen
    )


def test_running_again_for_the_month_adds_nothing(runner: Any, db: Session, world: World) -> None:
    assert schedule(runner, "--from-period", SOURCE).exit_code == 0
    calibration = db.scalars(select(CalibrationSession)).one()
    again = schedule(runner, "--from-period", SOURCE, "--conversations", "2")
    assert again.exit_code == 0, again.output
    assert f"Session {calibration.id} {calibration.title!r} already exists for {MONTH}" in (
        again.output
    )
    assert "nothing added" in again.output
    assert count(db, CalibrationSession) == 1
    assert count(db, CalibrationItem) == 5


def test_chosen_raters_of_one_partner_may_get_that_partners_conversations(
    runner: Any, db: Session, world: World
) -> None:
    result = schedule(
        runner,
        "--from-period",
        SOURCE,
        "--raters",
        "north.qa@example.org, QA@example.org",
        "--facilitator",
        "manager@example.org",
        "--conversations",
        "11",
        "--due-day",
        "5",
        "--title",
        "North and us",
    )
    assert result.exit_code == 0, result.output
    calibration = db.scalars(select(CalibrationSession)).one()
    assert calibration.title == "North and us"
    assert calibration.due_at.day == 5
    assert {rater.user_id for rater in calibration.raters} == {world.qa.id, world.north_qa.id}
    every = {conversation.id for conversation in world.in_house + world.partner}
    assert {item.conversation_id for item in calibration.items} == every


def test_fewer_conversations_than_asked_are_reported(
    runner: Any, db: Session, world: World
) -> None:
    result = schedule(runner, "--from-period", SOURCE, "--conversations", "20")
    assert result.exit_code == 0, result.output
    assert count(db, CalibrationItem) == 8
    assert "Only 8 of the 20 conversations asked for could be sampled from 2026-10." in (
        result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "there is no month 13"),
        (["--month", "2026-W47"], "is not a month; use YYYY-MM"),
        (["--from-period", "someday"], "is not a period"),
        (["--scorecard", "9999"], "there is no scorecard 9999"),
        (["--facilitator", "qa@example.org"], "qa@example.org cannot facilitate"),
        (["--facilitator", "nobody@example.org"], "there is no user nobody@example.org"),
        (["--raters", "qa@example.org,ghost@example.org"], "there is no user ghost@example.org"),
        (["--raters", "qa@example.org"], "at least 2 raters; found 1"),
        (["--raters", "qa@example.org,agent@example.org"], "agent@example.org cannot rate"),
        (["--conversations", "0"], "sample between 1 and 30 conversations, not 0"),
        (["--due-day", "32"], "has days 1 to"),
        (["--month", "2020-01"], "has passed; the due date must be in the future"),
        (["--from-period", "2019-01"], "No conversation of 2019-01 can be sampled"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_written(
    runner: Any, db: Session, make: Factory, world: World, args: list[str], message: str
) -> None:
    make.user(Role.AGENT, email="agent@example.org")
    full = ["--from-period", SOURCE, *args] if "--from-period" not in args else args
    result = runner.invoke(args=["schedule-calibration", "--month", MONTH, *full])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert count(db, CalibrationSession) == 0


def test_without_a_published_scorecard_nothing_can_be_scheduled(
    runner: Any, db: Session, make: Factory
) -> None:
    make.user(Role.MANAGER)
    result = schedule(runner)
    assert result.exit_code == 2
    assert "No active scorecard has a published version" in result.output
    assert count(db, CalibrationSession) == 0
