"""In a real browser: a QA specialist searches, filters and opens a conversation's transcript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from qa_app.org.roles import Role
from tests.browser.pages import log_in, nav_link
from tests.conftest import Factory

expect = pytest.importorskip("playwright.sync_api").expect


def test_qa_specialist_finds_and_reads_a_conversation(page: Any, make: Factory) -> None:
    northwind = make.partner("Northwind BPO")
    maya = make.agent(make.team("Tier 1"), name="Maya Chen")
    noor = make.agent(make.team("Northwind Chat", northwind), name="Noor Haddad")
    make.conversation(
        maya,
        external_id="ZD-501",
        channel="chat",
        started_at=datetime(2026, 10, 2, 9, 0, tzinfo=UTC),
        csat=2,
        tags=["billing"],
        messages=[
            ("system", "Chat started from the help centre"),
            ("customer", "I want a refund for the duplicate charge.\nOrder 1234."),
            ("agent", "I have refunded the duplicate charge."),
            ("bot", "How did we do? Rate this chat."),
        ],
    )
    make.conversation(
        noor,
        external_id="ZD-502",
        channel="email",
        messages=[("customer", "Refund status please"), ("agent", "Your refund is on its way.")],
    )
    make.conversation(noor, external_id="ZD-503", channel="chat")
    qa = make.user(Role.QA_SPECIALIST, email="qa@example.org")

    log_in(page, qa.email)
    nav_link(page, "Conversations").click()
    table = page.get_by_test_id("conversations-table")
    expect(page.get_by_test_id("conversation-total")).to_have_text("3 conversations")

    page.get_by_label("Search").fill("refund")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("conversation-total")).to_have_text("2 conversations")
    expect(table).to_contain_text("ZD-501")
    expect(table).to_contain_text("ZD-502")

    page.get_by_label("Channel").select_option(label="Chat")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("conversation-total")).to_have_text("1 conversation")
    expect(table).not_to_contain_text("ZD-502")
    expect(page.get_by_test_id("active-filters")).to_contain_text("Search: refund")
    expect(page.get_by_label("Search")).to_have_value("refund")

    table.get_by_role("link", name="ZD-501").click()
    expect(page.locator("h1")).to_contain_text("Conversation ZD-501")
    transcript = page.get_by_test_id("transcript")
    expect(transcript.locator("[data-speaker]")).to_have_count(4)
    customer = transcript.locator('[data-speaker="customer"] .bubble-text')
    expect(customer).to_have_text("I want a refund for the duplicate charge.\nOrder 1234.")
    expect(transcript.locator('[data-speaker="agent"]')).to_contain_text("Maya Chen")
    expect(transcript.locator('[data-speaker="system"]')).to_contain_text("Chat started")
    # Customers on the left, the agent on the right, system lines in the middle.
    customer_box = transcript.locator('[data-speaker="customer"] .bubble').bounding_box()
    agent_box = transcript.locator('[data-speaker="agent"] .bubble').bounding_box()
    assert customer_box["x"] < agent_box["x"]
    expect(page.get_by_test_id("conversation-details")).to_contain_text("Tier 1 · In-house")

    page.get_by_test_id("back-to-list").click()
    expect(page.get_by_test_id("conversation-total")).to_have_text("1 conversation")
    expect(page.get_by_label("Channel")).to_have_value("chat")
