"""In a real browser: a QA specialist scores a conversation from the queue and sees the score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qa_app.org.roles import Role
from qa_app.reviews.models import Review, ReviewStatus
from tests.browser.pages import log_in, nav_link
from tests.conftest import Factory
from tests.reviews.factories import MIXED_SCORE, assignment, published_scorecard

expect = pytest.importorskip("playwright.sync_api").expect


def test_qa_specialist_scores_a_conversation_from_the_queue(
    page: Any, make: Factory, db: Any
) -> None:
    maya = make.agent(make.team("Tier 1"), name="Maya Chen")
    conversation = make.conversation(
        maya,
        external_id="ZD-777",
        messages=[
            ("customer", "Where is my parcel? <b>It is late</b>"),
            ("agent", "Sorry about that. Let me check the tracking for you."),
        ],
    )
    card = published_scorecard(db)
    qa = make.user(Role.QA_SPECIALIST, email="qa@example.org")
    assignment(db, conversation, card, qa, due_at=datetime.now(UTC) - timedelta(days=1))

    log_in(page, qa.email)
    nav_link(page, "My queue").click()
    queue = page.get_by_test_id("queue-table")
    expect(queue).to_contain_text("ZD-777")
    expect(queue).to_contain_text("overdue")
    queue.get_by_role("button", name="Start review").click()

    expect(page.get_by_test_id("transcript")).to_contain_text("<b>It is late</b>")  # escaped
    form = page.get_by_test_id("scorecard-form")
    form.get_by_role("group", name="Greets the customer").get_by_label("No").check()
    form.get_by_label("Comment on Greets the customer").fill("No greeting.")
    form.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Draft saved.")
    expect(form.get_by_role("group", name="Greets the customer").get_by_label("No")).to_be_checked()

    form.get_by_role("group", name="Shows empathy").get_by_label("3 · Good").check()
    form.get_by_label("Gives accurate information", exact=True).select_option("2")
    form.get_by_role("group", name="Verifies identity").get_by_label("Yes").check()
    form.get_by_label("Overall comment").fill("Friendly, but greet the customer first.")
    form.get_by_role("button", name="Submit review").click()

    expect(page.get_by_role("alert")).to_contain_text("Review submitted: score 61.11.")
    expect(page.get_by_test_id("review-score")).to_have_text(f"{MIXED_SCORE:.1f}")
    expect(page.get_by_test_id("section-scores")).to_contain_text("Resolution")
    expect(page.get_by_test_id("audit-trail")).to_contain_text("submitted")
    review = db.scalars(select(Review)).one()
    assert review.status == ReviewStatus.SUBMITTED
    assert review.score == pytest.approx(MIXED_SCORE)

    nav_link(page, "My queue").click()
    expect(page.get_by_test_id("queue-table")).not_to_contain_text("ZD-777")
