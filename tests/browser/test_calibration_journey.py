"""In a real browser: a rater scores blind and submits, the facilitator reveals and reads alpha."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qa_app.calibration import services
from qa_app.calibration.models import CalibrationRating, CalibrationSession, RatingStatus
from qa_app.calibration.results import compute_results
from qa_app.db import utcnow
from qa_app.org.roles import Role
from tests.browser.pages import log_in, nav_link
from tests.conftest import Factory
from tests.reviews.factories import MIXED_SCORE, PERFECT, published_scorecard

expect = pytest.importorskip("playwright.sync_api").expect

CLOSE_TO_MIXED = {"greeting": "yes", "empathy": "3", "accuracy": "2", "identity": "yes"}


def test_rater_scores_blind_and_the_facilitator_reveals_the_results(
    page: Any, make: Factory, db: Any
) -> None:
    maya = make.agent(make.team("Tier 1"), name="Maya Chen")
    first = make.conversation(
        maya,
        external_id="ZD-901",
        messages=[
            ("customer", "My refund has not arrived. <b>Again</b>"),
            ("agent", "I am sorry. Let me look at the refund for you."),
        ],
    )
    second = make.conversation(maya, external_id="ZD-902")
    card = published_scorecard(db)
    manager = make.user(Role.MANAGER, email="manager@example.org")
    qa = make.user(Role.QA_SPECIALIST, email="qa@example.org")
    partner_qa = make.user(Role.PARTNER_QA, partner=make.partner("Northwind"))
    calibration = services.create_session(
        db,
        services.SessionInput(
            title="December calibration",
            scorecard_version_id=card.version.id,
            conversation_ids=[first.id, second.id],
            rater_ids=[qa.id, partner_qa.id],
            due_at=utcnow() + timedelta(days=7),
        ),
        by=manager,
    )
    # The rater has already submitted the second conversation; the first is scored below.
    services.save_rating(db, calibration, second.id, card.answers(PERFECT), by=qa, submit=True)
    db.commit()

    log_in(page, qa.email)
    nav_link(page, "Calibration").click()
    expect(page.get_by_test_id(f"session-{calibration.id}")).to_contain_text("1 of 2 submitted")
    page.get_by_role("link", name="December calibration").click()
    expect(page.get_by_test_id("blind-notice")).to_be_visible()
    page.get_by_test_id(f"my-item-{first.id}").get_by_role("link", name="Score").click()

    expect(page.get_by_test_id("transcript")).to_contain_text("<b>Again</b>")  # escaped
    form = page.get_by_test_id("scorecard-form")
    form.get_by_role("group", name="Greets the customer").get_by_label("No").check()
    form.get_by_role("group", name="Shows empathy").get_by_label("3 · Good").check()
    form.get_by_label("Gives accurate information", exact=True).select_option("2")
    form.get_by_role("group", name="Verifies identity").get_by_label("Yes").check()
    form.get_by_role("button", name="Submit rating").click()

    expect(page.get_by_role("alert")).to_contain_text("Rating submitted.")
    # On to the next conversation of the session; back to the session from its heading.
    expect(page.get_by_role("heading", name="Rate conversation ZD-902")).to_be_visible()
    page.get_by_role("link", name="December calibration").click()
    expect(page.get_by_test_id(f"my-item-{first.id}")).to_contain_text("submitted")
    expect(page.get_by_test_id("blind-notice")).to_be_visible()
    rating = db.scalars(
        select(CalibrationRating).where(
            CalibrationRating.rater_id == qa.id, CalibrationRating.conversation_id == first.id
        )
    ).one()
    assert rating.status == RatingStatus.SUBMITTED
    assert rating.score == pytest.approx(MIXED_SCORE)

    # The other rater submits both conversations.
    calibration = db.get(CalibrationSession, calibration.id)
    for conversation, values in ((first, CLOSE_TO_MIXED), (second, PERFECT)):
        services.save_rating(
            db, calibration, conversation.id, card.answers(values), by=partner_qa, submit=True
        )
    db.commit()

    page.context.clear_cookies()
    log_in(page, manager.email)
    page.goto(f"/calibration/{calibration.id}")
    expect(page.get_by_test_id(f"progress-{qa.id}")).to_contain_text("2 of 2")
    expect(page.get_by_test_id(f"progress-{partner_qa.id}")).to_contain_text("2 of 2")
    page.get_by_role("button", name="Reveal the results").click()
    expect(page.get_by_role("alert")).to_contain_text("Results revealed.")
    expect(page.get_by_test_id("session-status")).to_contain_text("revealed")
    page.get_by_role("link", name="Results", exact=True).click()

    db.expire_all()
    expected = compute_results(db, db.get(CalibrationSession, calibration.id), n_boot=0)
    assert expected.overall.alpha is not None
    overall = page.get_by_test_id("overall")
    expect(overall.locator(".alpha-figure")).to_have_text(f"{expected.overall.alpha:.3f}")
    expect(overall).to_contain_text(expected.overall.reading)
    expect(page.get_by_test_id("raters")).to_contain_text(partner_qa.name)
