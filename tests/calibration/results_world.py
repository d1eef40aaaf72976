"""A revealed calibration session with known answers, for the results tests, built as rows.

Three conversations, tolerance 5, the scorecard of tests.reviews.factories (greeting yes/no
with N/A, empathy scale 1-4, accuracy points 0-3, identity yes/no with N/A). Raters: in-house
Alex and Blair, Northwind's Casey and Dana, Lumen's Eli (whose third rating is a draft, so it
does not count). Scores are set by hand so the deviations are easy to check:

    benchmark      80   60   90
    Alex           82   60   88     -> +2   0  -2
    Blair          85   66   90     -> +5  +6   0
    Casey (NW)     90   70   95     -> +10 +10 +5
    Dana (NW)      88   75   99     -> +8  +15 +9
    Eli (Lumen)    70   50   (draft) -> -10 -10
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.conversations.models import Conversation
from qa_app.org.models import Partner
from qa_app.org.roles import Role
from tests.conftest import Factory
from tests.reviews.factories import Card, published_scorecard

BENCHMARK_SCORES = [80.0, 60.0, 90.0]
BENCHMARK = [
    {"greeting": "yes", "empathy": "3", "accuracy": "3", "identity": "yes"},
    {"greeting": "no", "empathy": "2", "accuracy": "2", "identity": "yes"},
    {"greeting": "na", "empathy": "4", "accuracy": "3", "identity": "yes"},
]
SCORES = {
    "alex": [82.0, 60.0, 88.0],
    "blair": [85.0, 66.0, 90.0],
    "casey": [90.0, 70.0, 95.0],
    "dana": [88.0, 75.0, 99.0],
    "eli": [70.0, 50.0, 0.0],
}


def _differing(base: list[dict[str, str]], **changes: str) -> list[dict[str, str]]:
    """The benchmark answers with changes such as ``greeting_2="yes"`` (conversation 3)."""
    answers = [dict(values) for values in base]
    for name, value in changes.items():
        key, index = name.rsplit("_", 1)
        answers[int(index)][key] = value
    return answers


ANSWERS = {
    "alex": _differing(BENCHMARK),
    "blair": _differing(BENCHMARK, greeting_2="yes"),
    "casey": _differing(BENCHMARK, greeting_1="yes", greeting_2="yes", accuracy_0="2"),
    "dana": _differing(BENCHMARK, greeting_2="yes", empathy_1="3"),
    "eli": _differing(BENCHMARK, identity_0="no", identity_1="no", identity_2="no"),
}
GROUP_OF = {
    "alex": None,
    "blair": None,
    "casey": "northwind",
    "dana": "northwind",
    "eli": "lumen",
}
NAMES = {
    "alex": "Alex Inhouse",
    "blair": "Blair Inhouse",
    "casey": "=Casey Northwind",  # a formula, to prove the CSV neutralises it
    "dana": "Dana Northwind",
    "eli": "Eli Lumen",
}
ROLE_OF = {None: Role.QA_SPECIALIST, "northwind": Role.PARTNER_QA, "lumen": Role.PARTNER_QA}


@dataclass
class ResultsWorld:
    card: Card
    session: CalibrationSession
    conversations: list[Conversation]
    partners: dict[str, Partner]
    raters: dict[str, User]
    rater_rows: dict[str, CalibrationRater]
    manager: User


def add_rating(
    db: Session,
    calibration: CalibrationSession,
    card: Card,
    conversation: Conversation,
    rater: User | None,
    score: float | None,
    answers: dict[str, str],
    *,
    status: RatingStatus = RatingStatus.SUBMITTED,
) -> CalibrationRating:
    """A rating (``rater`` None: the benchmark) with answers keyed by criterion key."""
    rating = CalibrationRating(
        session_id=calibration.id,
        conversation_id=conversation.id,
        rater_id=rater.id if rater else None,
        is_benchmark=rater is None,
        status=status,
        score=score,
        submitted_at=datetime(2026, 10, 3, tzinfo=UTC)
        if status == RatingStatus.SUBMITTED
        else None,
        answers=[
            CalibrationAnswer(criterion_id=card.criteria[key].id, value=value)
            for key, value in answers.items()
        ],
    )
    db.add(rating)
    return rating


def results_world(
    make: Factory,
    *,
    status: SessionStatus = SessionStatus.REVEALED,
    benchmark: bool = True,
    revealed_at: datetime | None = None,
) -> ResultsWorld:
    db = make.session
    card = published_scorecard(db, name="Calibration results scorecard")
    partners = {"northwind": make.partner("Northwind"), "lumen": make.partner("Lumen")}
    manager = make.user(Role.MANAGER)
    raters: dict[str, User] = {}
    for key, group in GROUP_OF.items():
        user = make.user(ROLE_OF[group], partner=partners[group] if group else None)
        user.name = NAMES[key]
        raters[key] = user
    conversations = [make.conversation() for _ in range(3)]
    revealed = status != SessionStatus.OPEN
    calibration = CalibrationSession(
        title="October calibration",
        scorecard_version_id=card.version.id,
        facilitator_id=manager.id,
        status=status,
        due_at=datetime(2026, 10, 4, tzinfo=UTC),
        tolerance=5.0,
        revealed_at=(revealed_at or datetime(2026, 10, 5, tzinfo=UTC)) if revealed else None,
        items=[
            CalibrationItem(conversation_id=conversation.id, position=position)
            for position, conversation in enumerate(conversations)
        ],
    )
    rater_rows = {
        key: CalibrationRater(user_id=user.id, partner_id=user.partner_id)
        for key, user in raters.items()
    }
    calibration.raters = list(rater_rows.values())
    db.add(calibration)
    db.flush()
    for key, user in raters.items():
        for index, conversation in enumerate(conversations):
            draft = key == "eli" and index == 2
            add_rating(
                db,
                calibration,
                card,
                conversation,
                user,
                SCORES[key][index],
                ANSWERS[key][index],
                status=RatingStatus.DRAFT if draft else RatingStatus.SUBMITTED,
            )
    if benchmark:
        for index, conversation in enumerate(conversations):
            add_rating(
                db, calibration, card, conversation, None, BENCHMARK_SCORES[index], BENCHMARK[index]
            )
    db.commit()
    return ResultsWorld(card, calibration, conversations, partners, raters, rater_rows, manager)
