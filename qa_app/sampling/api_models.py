"""The models of /api/v1/assignments: the list's query, the change bodies, and the answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import url_for
from pydantic import Field, StrictStr

from qa_app.api.formats import Moment, Url
from qa_app.api.models import (
    AgentRef,
    Answer,
    Body,
    IdField,
    JsonObject,
    PageAnswer,
    PersonRef,
    TeamRef,
    agent_ref,
    invalid_as,
    team_ref,
)
from qa_app.api.params import Id, PageQuery, Parsed, one_of, whole_number
from qa_app.auth.models import User
from qa_app.sampling.forms import UNASSIGNED
from qa_app.sampling.models import AssignmentEvent, AssignmentStatus, ReviewAssignment
from qa_app.sampling.services import MAX_SKIP_REASON_LENGTH

ALL = "all"
STATUSES = (*(status.value for status in AssignmentStatus), ALL)

# Requests ----------------------------------------------------------------------------------------


def _reviewer(raw: str) -> int | str | None:
    """A user id, or "none" for the assignments without a reviewer."""
    return UNASSIGNED if raw.strip().lower() == UNASSIGNED else whole_number()(raw)


ReviewerFilter = Annotated[
    int | Literal["none"] | None,
    Parsed(
        _reviewer,
        {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": [UNASSIGNED]}]},
    ),
]


class AssignmentsQuery(PageQuery):
    status: Annotated[str | None, one_of(STATUSES)] = Field(
        None, description="Default: open and in progress."
    )
    plan_id: Id = Field(None, description="The sampling plan's id.")
    reviewer_id: ReviewerFilter = Field(
        None,
        description="Admins and managers only (others get 400): a reviewer's user id, or none "
        "for unassigned.",
    )


class ReassignInput(Body):
    noun = "reassignment"
    reviewer_id: IdField


class SkipInput(Body):
    noun = "skip"
    # Documented, not enforced here: the service says what is wrong with an empty or long
    # reason, in the words of the web page.
    reason: Annotated[StrictStr, invalid_as("must be text", null="is required")] = Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_SKIP_REASON_LENGTH}
    )


# Answers -----------------------------------------------------------------------------------------


class AssignedConversation(Answer):
    id: int
    external_id: str
    channel: str
    started_at: Moment


class Named(Answer):
    id: int
    name: str


class Assignment(Answer):
    id: int
    status: AssignmentStatus
    conversation: AssignedConversation
    agent: AgentRef | None
    team: TeamRef | None
    reviewer: PersonRef | None
    scorecard: Named
    plan: Named | None
    stratum: str
    weight: float
    reason: str
    due_at: Moment | None
    created_at: Moment
    skip_reason: str | None
    review_id: int | None
    url: Url


class AssignmentPage(PageAnswer):
    items: list[Assignment]


class AssignmentEventAnswer(Answer):
    action: str
    at: Moment
    actor: PersonRef | None
    details: JsonObject = Field(description="What changed, with the names as they were then.")


class AssignmentDetail(Assignment):
    """An assignment with its history, oldest first."""

    history: list[AssignmentEventAnswer]


# Building them -----------------------------------------------------------------------------------


def person(user: User | None) -> PersonRef | None:
    return None if user is None else PersonRef(id=user.id, name=user.name)


def _fields(item: ReviewAssignment, review_ids: dict[int, int]) -> dict[str, Any]:
    conversation = item.conversation
    plan = item.plan
    return {
        "id": item.id,
        "status": item.status,
        "conversation": AssignedConversation(
            id=conversation.id,
            external_id=conversation.external_id,
            channel=conversation.channel,
            started_at=conversation.started_at,
        ),
        "agent": agent_ref(conversation.agent),
        "team": team_ref(conversation.team),
        "reviewer": person(item.reviewer),
        "scorecard": Named(id=item.scorecard.id, name=item.scorecard.name),
        "plan": None if plan is None else Named(id=plan.id, name=plan.name),
        "stratum": item.stratum,
        "weight": item.weight,
        "reason": item.reason,
        "due_at": item.due_at,
        "created_at": item.created_at,
        "skip_reason": item.skip_reason,
        "review_id": review_ids.get(item.id),
        "url": url_for("api.get_assignment", assignment_id=item.id, _external=True),
    }


def assignment_summary(item: ReviewAssignment, review_ids: dict[int, int]) -> Assignment:
    """Expects conversation (with agent and team), reviewer, scorecard and plan loaded."""
    return Assignment(**_fields(item, review_ids))


def assignment_detail(
    item: ReviewAssignment, review_ids: dict[int, int], events: list[AssignmentEvent]
) -> AssignmentDetail:
    history = [
        AssignmentEventAnswer(
            action=event.action, at=event.at, actor=person(event.actor), details=event.details or {}
        )
        for event in events
    ]
    return AssignmentDetail(**_fields(item, review_ids), history=history)
