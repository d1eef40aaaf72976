"""Where features above sampling take part in it without sampling importing them.

Sampling sits below reviews and calibration in the layers. Reviews keep reviewed conversations
out of the candidates, take back the draft of a skipped assignment and say which review each
assignment led to (the assignments API); calibration keeps its
sessions' conversations out (they are scored there, blind). Each registers here when the app is
built (``qa_app.reviews.hooks``, ``qa_app.calibration.hooks``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from qa_app.sampling.models import ReviewAssignment

Exclusion = Callable[[], ColumnElement[bool]]  # a condition every candidate conversation meets
DraftRelease = Callable[[Session, ReviewAssignment, Any], int | None]
ReviewLookup = Callable[[Session, Sequence[int]], dict[int, int]]  # assignment id -> review id

_exclusions: dict[str, Exclusion] = {}
_draft_releases: dict[str, DraftRelease] = {}
_review_lookups: dict[str, ReviewLookup] = {}


def exclude_candidates(name: str, condition: Exclusion) -> None:
    _exclusions[name] = condition  # by name: building a second app registers nothing twice


def on_skip(name: str, release: DraftRelease) -> None:
    """``release`` detaches the work begun for a skipped assignment; it returns a review id."""
    _draft_releases[name] = release


def candidate_exclusions() -> list[ColumnElement[bool]]:
    return [condition() for condition in _exclusions.values()]


def release_work(session: Session, assignment: ReviewAssignment, by: Any) -> int | None:
    released = [release(session, assignment, by) for release in _draft_releases.values()]
    return next((review_id for review_id in released if review_id is not None), None)


def on_review_lookup(name: str, lookup: ReviewLookup) -> None:
    """``lookup`` gives the id of the review each of some assignments led to, if any."""
    _review_lookups[name] = lookup


def reviews_of(session: Session, assignment_ids: Sequence[int]) -> dict[int, int]:
    """Assignment id -> id of its review, for the assignments that have one."""
    found: dict[int, int] = {}
    for lookup in _review_lookups.values():
        found.update(lookup(session, assignment_ids))
    return found
