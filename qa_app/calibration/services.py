"""The calibration workflow: create a session, score blind, reveal, benchmark, discuss, decide.

Every function takes the database session, adds and flushes, never commits. Rules that are
decisions, not accidents:

* Only administrators and managers create and facilitate sessions. Raters are active QA
  specialists, partner QA and managers; a session needs at least two.
* A session's conversations must be readable by every rater: in-house conversations, or one
  partner's conversations when every partner rater belongs to that partner. A partner rater
  never sees another partner's conversation through a session.
* The blind phase: a rater scores each conversation on their own, may revise until the reveal,
  and sees nobody else's answers nor the benchmark. The facilitator sees who has submitted.
* The reveal is the facilitator's, once every rater has submitted everything or the due date
  has passed. Drafts left at the reveal do not count. After the reveal ratings are frozen.
* The benchmark is recorded by the facilitator (all criteria answered) at any time, or adopted
  from the consensus of the submitted ratings: the majority answer for yes/no criteria, the
  (lower) median for scales and points, N/A when most raters said N/A. A tie has no consensus
  and is reported, so the facilitator decides it.
* Discussion notes and decisions come after the reveal. A decision on a criterion can be copied
  into that criterion's guidance in the scorecard's next draft (made if needed).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qa_app.auth.models import User
from qa_app.calibration.access import can_facilitate
from qa_app.calibration.errors import CalibrationAnswerError as CalibrationAnswerError
from qa_app.calibration.errors import CalibrationError
from qa_app.calibration.models import (
    DEFAULT_TOLERANCE,
    CalibrationAnswer,
    CalibrationItem,
    CalibrationNote,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.rating import (
    clean_text,
    item_of,
    merged_answers,
    rater_of,
    save_rating_row,
    store_answers,
    validated_answers,
)
from qa_app.calibration.rating import rating_of as rating_of
from qa_app.calibration.rating import record_rating as record_rating
from qa_app.calibration.rating import save_rating as save_rating
from qa_app.concurrency import try_insert
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org.models import Team
from qa_app.org.roles import Role
from qa_app.reviews.answers import AnswerInput, ordered_criteria
from qa_app.scorecards.models import Criterion, ScorecardVersion, VersionStatus
from qa_app.scorecards.scoring import NA, CriterionKind
from qa_app.scorecards.services import start_new_draft

if TYPE_CHECKING:
    from qa_app.sampling.periods import Period

RATER_ROLES = frozenset({Role.QA_SPECIALIST, Role.PARTNER_QA, Role.MANAGER})
MIN_RATERS = 2
MAX_ITEMS = 30
MAX_TITLE = 200
MAX_NOTE = 5000


def _now() -> datetime:
    return utcnow()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Creating a session -----------------------------------------------------------------------------


def _require_facilitator(user: User) -> None:
    if not can_facilitate(user):
        raise CalibrationError("Only administrators and managers facilitate calibration.")


def eligible_raters(session: Session) -> list[User]:
    """Active users who may rate, in-house first, then by partner and name."""
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(RATER_ROLES))
            .order_by(User.partner_id.is_not(None), User.partner_id, User.name, User.email)
        )
    )


def _conversation_partners(
    session: Session, conversation_ids: Sequence[int]
) -> dict[int, int | None]:
    rows = session.execute(
        select(Conversation.id, Team.partner_id)
        .outerjoin(Team, Team.id == Conversation.team_id)
        .where(Conversation.id.in_(conversation_ids))
    ).all()
    return {row.id: row.partner_id for row in rows}


def check_conversations_for_raters(
    session: Session, conversation_ids: Sequence[int], raters: Sequence[User]
) -> None:
    """Every rater must be able to read every conversation; raise naming the first one not."""
    partners = _conversation_partners(session, conversation_ids)
    missing = [cid for cid in conversation_ids if cid not in partners]
    if missing:
        raise CalibrationError(f"Conversation #{missing[0]} does not exist.")
    rater_partners = {rater.partner_id for rater in raters if rater.partner_id is not None}
    for conversation_id in conversation_ids:
        owner = partners[conversation_id]
        if owner is None:
            continue
        if rater_partners - {owner}:
            raise CalibrationError(
                f"Conversation #{conversation_id} belongs to a partner's team, and raters of"
                " another partner cannot read it. With raters from several partners, pick"
                " in-house conversations."
            )


def partner_filter_for(raters: Sequence[User]) -> list[int]:
    """``partner_ids`` for the sampling engine: conversations every rater may read."""
    from qa_app.sampling.options import IN_HOUSE

    partners = {rater.partner_id for rater in raters if rater.partner_id is not None}
    return [IN_HOUSE, *partners] if len(partners) == 1 else [IN_HOUSE]


@dataclass(frozen=True)
class SessionInput:
    title: str
    scorecard_version_id: int
    conversation_ids: Sequence[int]
    rater_ids: Sequence[int]
    due_at: datetime
    instructions: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    series_key: str | None = None


def create_session(session: Session, data: SessionInput, *, by: User) -> CalibrationSession:
    """Check everything first, then create the session with its conversations and raters."""
    _require_facilitator(by)
    title = data.title.strip()
    if not title:
        raise CalibrationError("Give the session a title.")
    if len(title) > MAX_TITLE:
        raise CalibrationError(f"The title is longer than {MAX_TITLE} characters.")
    version = session.get(ScorecardVersion, data.scorecard_version_id)
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise CalibrationError("Choose a published scorecard version.")
    conversation_ids = list(dict.fromkeys(data.conversation_ids))
    if not conversation_ids:
        raise CalibrationError("Pick at least one conversation.")
    if len(conversation_ids) > MAX_ITEMS:
        raise CalibrationError(f"A session holds at most {MAX_ITEMS} conversations.")
    rater_ids = list(dict.fromkeys(data.rater_ids))
    raters = (
        list(session.scalars(select(User).where(User.id.in_(rater_ids)).order_by(User.id)))
        if rater_ids
        else []
    )
    if len(raters) != len(rater_ids):
        raise CalibrationError("A chosen rater does not exist.")
    for rater in raters:
        if not rater.is_active or rater.role not in RATER_ROLES:
            raise CalibrationError(
                f"{rater.email} cannot rate: raters are active QA specialists, partner QA or"
                " managers."
            )
    if len(raters) < MIN_RATERS:
        raise CalibrationError(f"Invite at least {MIN_RATERS} raters.")
    if not 0 <= data.tolerance <= 100:
        raise CalibrationError("The tolerance is between 0 and 100 points.")
    due_at = _aware(data.due_at)
    if due_at <= _now():
        raise CalibrationError("The due date must be in the future.")
    if data.series_key is not None and session.scalar(
        select(CalibrationSession.id).where(CalibrationSession.series_key == data.series_key)
    ):
        raise CalibrationError(f"The series already has a session for {data.series_key}.")
    check_conversations_for_raters(session, conversation_ids, raters)
    calibration = CalibrationSession(
        title=title,
        instructions=clean_text(data.instructions, "The instructions"),
        scorecard_version_id=version.id,
        facilitator_id=by.id,
        due_at=due_at,
        tolerance=float(data.tolerance),
        series_key=data.series_key,
    )
    calibration.items = [
        CalibrationItem(conversation_id=cid, position=position)
        for position, cid in enumerate(conversation_ids)
    ]
    calibration.raters = [
        CalibrationRater(user_id=rater.id, partner_id=rater.partner_id) for rater in raters
    ]
    refused = try_insert(session, calibration)  # two schedulers of one month at once
    if refused is not None:
        if data.series_key is None:
            raise refused
        raise CalibrationError(f"The series already has a session for {data.series_key}.")
    return calibration


def sample_conversations(
    session: Session,
    *,
    raters: Sequence[User],
    count: int,
    seed: int,
    period: str | Period,
    filters: Mapping[str, object] | None = None,
) -> list[int]:
    """Pick ``count`` conversations of ``period`` at random with the sampling engine (seeded),
    among those every rater may read and that are not reviewed, assigned or in a session."""
    from qa_app.sampling import engine
    from qa_app.sampling.models import Strategy
    from qa_app.sampling.services import SamplingError, as_period

    if not 1 <= count <= MAX_ITEMS:
        raise CalibrationError(f"Sample between 1 and {MAX_ITEMS} conversations.")
    spec = engine.PlanSpec(
        Strategy.UNIFORM,
        {**(filters or {}), "partner_ids": partner_filter_for(raters)},
        {"size": count},
        seed,
    )
    try:
        chosen_period = as_period(period)
    except SamplingError as error:
        raise CalibrationError(str(error)) from None
    _, chosen = engine.select_sample(session, spec, chosen_period)
    return [item.conversation_id for item in chosen]


@dataclass(frozen=True)
class RaterProgress:
    rater: CalibrationRater
    submitted: int
    total: int

    @property
    def done(self) -> bool:
        return self.submitted >= self.total


def progress(session: Session, calibration: CalibrationSession) -> list[RaterProgress]:
    """Submitted ratings per rater, counted in SQL: what the facilitator sees while blind."""
    counts = dict(
        session.execute(
            select(CalibrationRating.rater_id, func.count())
            .where(
                CalibrationRating.session_id == calibration.id,
                CalibrationRating.status == RatingStatus.SUBMITTED,
                CalibrationRating.is_benchmark.is_(False),
            )
            .group_by(CalibrationRating.rater_id)
        ).all()
    )
    total = len(calibration.items)
    return [
        RaterProgress(rater, counts.get(rater.user_id, 0), total) for rater in calibration.raters
    ]


def reveal_refusal(session: Session, calibration: CalibrationSession) -> str | None:
    """Why the session cannot be revealed now, or None."""
    if not calibration.is_blind:
        return "The results are already revealed."
    if _aware(calibration.due_at) <= _now():
        return None
    if all(item.done for item in progress(session, calibration)):
        return None
    return "Reveal after the due date, or once every rater has submitted every conversation."


def reveal(session: Session, calibration: CalibrationSession, *, by: User) -> CalibrationSession:
    """End the blind phase: ratings freeze; results, benchmark and answers become visible."""
    _require_facilitator(by)
    session.refresh(calibration, with_for_update=True)
    refusal = reveal_refusal(session, calibration)
    if refusal:
        raise CalibrationError(refusal)
    calibration.status = SessionStatus.REVEALED
    calibration.revealed_at = _now()
    calibration.revealed_by_id = by.id
    session.flush()
    refresh_results(session, calibration)
    return calibration


def close(session: Session, calibration: CalibrationSession, *, by: User) -> CalibrationSession:
    _require_facilitator(by)
    if calibration.status != SessionStatus.REVEALED:
        raise CalibrationError("Only a revealed session can be closed.")
    calibration.status = SessionStatus.CLOSED
    calibration.closed_at = _now()
    session.flush()
    return calibration


def refresh_results(session: Session, calibration: CalibrationSession) -> None:
    """Store the session's headline figures per group, for trends; only once revealed."""
    if calibration.is_blind:
        return
    from qa_app.calibration.results import compute_results
    from qa_app.calibration.trends import store_group_results

    store_group_results(session, calibration, compute_results(session, calibration, n_boot=0))


# The benchmark ----------------------------------------------------------------------------------


def save_benchmark(
    session: Session,
    calibration: CalibrationSession,
    conversation_id: int,
    answers: Mapping[int, AnswerInput],
    *,
    by: User,
    overall_comment: str = "",
) -> CalibrationRating:
    """Record the benchmark answers of one conversation: every criterion answered."""
    _require_facilitator(by)
    if calibration.status == SessionStatus.CLOSED:
        raise CalibrationError("The session is closed.")
    if item_of(calibration, conversation_id) is None:
        raise CalibrationError("That conversation is not part of this session.")
    version = calibration.scorecard_version

    def change(rating: CalibrationRating) -> None:
        cleaned = validated_answers(version, merged_answers(rating, answers), complete=True)
        store_answers(rating, version, cleaned, overall_comment, submit=True)

    rating = save_rating_row(session, calibration, conversation_id, None, change)[0]
    refresh_results(session, calibration)
    return rating


def consensus_value(criterion: Criterion, values: Sequence[str]) -> str | None:
    """The consensus of submitted answers to one criterion, or None for a tie / no answers.

    Yes/no: the most frequent answer (N/A included). Scale and points: N/A when most raters
    said N/A, else the lower median of the numbers, which is always a point of the scale.
    """
    if not values:
        return None
    counts = Counter(values).most_common()
    if criterion.kind == CriterionKind.YES_NO:
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            return None
        return counts[0][0]
    na = sum(1 for value in values if value == NA)
    numbers = sorted(int(value) for value in values if value != NA)
    if na * 2 > len(values):
        return NA
    if na * 2 == len(values):
        return None
    return str(statistics.median_low(numbers))


@dataclass(frozen=True)
class ConsensusOutcome:
    adopted: list[int]  # conversation ids whose benchmark was set
    undecided: list[str]  # "conversation #id: criterion title" without a consensus


def adopt_consensus(
    session: Session, calibration: CalibrationSession, *, by: User
) -> ConsensusOutcome:
    """Make the consensus of the submitted ratings the benchmark, conversation by conversation.

    A conversation with a criterion that has no consensus (a tie, or no submitted rating) keeps
    its benchmark as it is, and is reported so the facilitator records that one by hand.
    """
    _require_facilitator(by)
    if calibration.is_blind:
        raise CalibrationError("Adopt the consensus after the reveal; record a benchmark now.")
    if calibration.status == SessionStatus.CLOSED:
        raise CalibrationError("The session is closed.")
    rows = session.execute(
        select(
            CalibrationRating.conversation_id,
            CalibrationAnswer.criterion_id,
            CalibrationAnswer.value,
        )
        .join(CalibrationAnswer, CalibrationAnswer.rating_id == CalibrationRating.id)
        .where(
            CalibrationRating.session_id == calibration.id,
            CalibrationRating.is_benchmark.is_(False),
            CalibrationRating.status == RatingStatus.SUBMITTED,
            CalibrationAnswer.value.is_not(None),
        )
    ).all()
    values: dict[tuple[int, int], list[str]] = {}
    for row in rows:
        values.setdefault((row.conversation_id, row.criterion_id), []).append(row.value)
    criteria = ordered_criteria(calibration.scorecard_version)
    adopted: list[int] = []
    undecided: list[str] = []
    for item in calibration.items:
        answers: dict[int, AnswerInput] = {}
        for criterion in criteria:
            value = consensus_value(criterion, values.get((item.conversation_id, criterion.id), []))
            if value is None:
                undecided.append(f"conversation #{item.conversation_id}: {criterion.title}")
            answers[criterion.id] = (value, "")
        if any(value is None for value, _ in answers.values()):
            continue
        cleaned = validated_answers(calibration.scorecard_version, answers, complete=True)

        def change(
            rating: CalibrationRating, cleaned: Mapping[int, tuple[str | None, str]] = cleaned
        ) -> None:
            version = calibration.scorecard_version
            store_answers(rating, version, cleaned, "Consensus of the raters.", submit=True)

        save_rating_row(session, calibration, item.conversation_id, None, change)
        adopted.append(item.conversation_id)
    session.flush()
    refresh_results(session, calibration)
    return ConsensusOutcome(adopted, undecided)


# Discussion and decisions -----------------------------------------------------------------------


def may_discuss(user: User, calibration: CalibrationSession) -> bool:
    return can_facilitate(user) or rater_of(calibration, user) is not None


def add_note(
    session: Session,
    calibration: CalibrationSession,
    body: str,
    *,
    by: User,
    conversation_id: int | None = None,
    criterion_id: int | None = None,
    is_decision: bool = False,
) -> CalibrationNote:
    """A discussion note after the reveal; decisions are the facilitator's and name a criterion."""
    if calibration.is_blind:
        raise CalibrationError("The discussion opens when the results are revealed.")
    if calibration.status == SessionStatus.CLOSED:
        raise CalibrationError("The session is closed.")
    if not may_discuss(by, calibration):
        raise CalibrationError("Only the session's raters and facilitators take part.")
    text = (body or "").strip()
    if not text:
        raise CalibrationError("Write the note first.")
    if len(text) > MAX_NOTE:
        raise CalibrationError(f"The note is longer than {MAX_NOTE} characters.")
    if conversation_id is not None and item_of(calibration, conversation_id) is None:
        raise CalibrationError("That conversation is not part of this session.")
    if criterion_id is not None and criterion_id not in {
        criterion.id for criterion in calibration.scorecard_version.criteria
    }:
        raise CalibrationError("That criterion is not on this session's scorecard.")
    if is_decision:
        _require_facilitator(by)
        if criterion_id is None:
            raise CalibrationError("A decision settles how a criterion is read: choose one.")
    note = CalibrationNote(
        session_id=calibration.id,
        conversation_id=conversation_id,
        criterion_id=criterion_id,
        author_id=by.id,
        body=text,
        is_decision=is_decision,
    )
    session.add(note)
    session.flush()
    return note


def apply_decision(
    session: Session, calibration: CalibrationSession, note: CalibrationNote, *, by: User
) -> ScorecardVersion:
    """Copy a decision into its criterion's guidance in the scorecard's next draft version."""
    _require_facilitator(by)
    if note.session_id != calibration.id or not note.is_decision or note.criterion is None:
        raise CalibrationError("Only a decision on a criterion can become guidance.")
    if note.applied_to_version_id is not None:
        raise CalibrationError("This decision is already in the scorecard's guidance.")
    draft = start_new_draft(session, calibration.scorecard_version.scorecard, by=by)
    target = next((c for c in draft.criteria if c.key == note.criterion.key), None)
    if target is None:
        raise CalibrationError(
            f"The draft version {draft.number} has no criterion “{note.criterion.title}” any more."
        )
    day = (calibration.revealed_at or _now()).date().isoformat()
    addition = f"Calibration decision ({calibration.title}, {day}): {note.body}"
    target.guidance = f"{target.guidance.rstrip()}\n\n{addition}".strip()
    note.applied_to_version_id = draft.id
    note.applied_at = _now()
    session.flush()
    return draft


def notes_of(session: Session, calibration: CalibrationSession) -> list[CalibrationNote]:
    return list(
        session.scalars(
            select(CalibrationNote)
            .where(CalibrationNote.session_id == calibration.id)
            .options(
                selectinload(CalibrationNote.author),
                selectinload(CalibrationNote.criterion),
            )
            .order_by(CalibrationNote.created_at, CalibrationNote.id)
        )
    )
