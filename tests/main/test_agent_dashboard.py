"""The agent's dashboard: reviews to acknowledge, disputes still open to them, their averages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.models import DisputeOutcome, Review, ReviewStatus
from tests.conftest import Factory
from tests.main.world import days_ago, figure
from tests.reviews.factories import (
    MIXED,
    PERFECT,
    published_scorecard,
    scored_review,
    submitted_review,
)


@dataclass
class AgentWorld:
    maya: User
    reviews: dict[str, Review]
    other_agents_review: Review


@pytest.fixture
def world(db: Session, make: Factory) -> AgentWorld:
    """Maya's reviews: submitted 70 (3 days ago), acknowledged 91 (20 days), disputed and
    waiting (10 days), upheld after a dispute (61.11, 50 days), re-scored after a dispute
    (61.11, 45 days); a draft of hers, and a review of Sam's."""
    card = published_scorecard(db)
    maya_agent = make.agent(make.team("Tier 1"), name="Maya Chen")
    sam_agent = make.agent(make.team("Tier 2"), name="Sam Other")
    maya = make.user(Role.AGENT, agent=maya_agent)
    qa = make.user(Role.QA_SPECIALIST)
    manager = make.user(Role.MANAGER)

    def conversation() -> Any:
        return make.conversation(maya_agent)

    reviews = {
        "submitted": scored_review(db, card, conversation(), qa, 70, submitted_at=days_ago(3)),
        "acknowledged": scored_review(
            db,
            card,
            conversation(),
            qa,
            91,
            status=ReviewStatus.ACKNOWLEDGED,
            submitted_at=days_ago(20),
        ),
        "disputed": submitted_review(db, card, conversation(), qa, submitted_at=days_ago(10)),
        "upheld": submitted_review(db, card, conversation(), qa, MIXED, submitted_at=days_ago(50)),
        "rescored": submitted_review(
            db, card, conversation(), qa, PERFECT, submitted_at=days_ago(45)
        ),
    }
    for key in ("disputed", "upheld", "rescored"):
        services.dispute(db, reviews[key], "Please look again.", by=maya)
    services.resolve_dispute(db, reviews["upheld"], DisputeOutcome.UPHELD, "It stands.", by=manager)
    services.resolve_dispute(
        db,
        reviews["rescored"],
        DisputeOutcome.RESCORED,
        "Re-scored.",
        card.answers(MIXED),
        by=manager,
    )
    services.start_review(db, conversation(), qa, version=card.version)  # a draft: not hers to see
    other = scored_review(
        db, card, make.conversation(sam_agent), qa, 12.5, submitted_at=days_ago(1)
    )
    db.commit()
    return AgentWorld(maya, reviews, other)


def test_agent_sees_how_many_reviews_wait_for_acknowledgement_and_which(
    world: AgentWorld, page_of: Any
) -> None:
    html = page_of(world.maya)
    assert figure(html, "count-awaiting") == "3"  # submitted, upheld, re-scored
    for key in ("submitted", "upheld", "rescored"):
        review_id = world.reviews[key].id
        assert f'data-testid="awaiting-{review_id}"' in html
        assert f'href="/reviews/{review_id}"' in html
    assert f'data-testid="awaiting-{world.reviews["acknowledged"].id}"' not in html


def test_agent_sees_the_reviews_still_open_to_dispute_linking_to_the_dispute_form(
    world: AgentWorld, page_of: Any
) -> None:
    html = page_of(world.maya)
    assert figure(html, "count-disputable") == "2"  # submitted, and the re-scored one
    for key in ("submitted", "rescored"):
        assert f'href="/reviews/{world.reviews[key].id}/dispute"' in html
    assert f"/reviews/{world.reviews['upheld'].id}/dispute" not in html
    assert figure(html, "count-my-disputes") == "1"


def test_agent_sees_averages_over_30_and_90_days_of_the_scores_that_stand(
    world: AgentWorld, page_of: Any
) -> None:
    html = page_of(world.maya)
    assert figure(html, "stat-agent-average-30") == "80.5"  # (70 + 91) / 2
    assert figure(html, "note-agent-average-30") == "of 2 reviews"  # the disputed one waits
    assert figure(html, "stat-agent-average-90") == "70.8"  # (70 + 91 + 61.11 + 61.11) / 4
    assert figure(html, "note-agent-average-90") == "of 4 reviews"
    assert 'href="/reviews/agents/' in html
    assert figure(html, "stat-agent-reviews") == "5"


def test_agent_sees_the_latest_reviews_with_score_newest_first_and_only_her_own(
    world: AgentWorld, page_of: Any
) -> None:
    html = page_of(world.maya)
    latest = figure(html, "latest-reviews")
    assert "70.0" in latest
    assert "91.0" in latest
    order = [
        world.reviews[key].id
        for key in ("submitted", "disputed", "acknowledged", "rescored", "upheld")
    ]
    positions = [html.index(f'data-testid="latest-{review_id}"') for review_id in order]
    assert positions == sorted(positions)
    assert "12.5" not in html
    assert "Sam Other" not in html
    assert "draft" not in latest


def test_agent_dashboard_no_longer_says_reviews_appear_later_when_she_has_some(
    world: AgentWorld, page_of: Any
) -> None:
    html = page_of(world.maya)
    assert "appear here once QA has scored" not in html
