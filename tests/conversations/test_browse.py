"""Browsing conversations: filters, sorting, pagination, search, escaping, scope, query count."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_app.conversations import browse
from qa_app.conversations.browse import ConversationFilters, SortKey
from qa_app.conversations.models import Conversation
from qa_app.org.models import Agent, Partner, Team
from qa_app.org.roles import Role
from tests.conftest import Factory, login
from tests.statements import recorded_statements

LIST = "/conversations/"


@dataclass
class Catalogue:
    """Two partners and an in-house team, four agents and five conversations of known shape."""

    northwind: Partner
    lumen: Partner
    team_north: Team
    team_lumen: Team
    team_house: Team
    maya: Agent
    milo: Agent
    noor: Agent
    lars: Agent
    conversations: dict[str, Conversation]

    def ids(self, *names: str) -> list[int]:
        return [self.conversations[name].id for name in names]


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def catalogue(make: Factory) -> Catalogue:
    northwind, lumen = make.partner("Northwind BPO"), make.partner("Lumen Outsourcing")
    team_north = make.team("Northwind Chat", northwind)
    team_lumen = make.team("Lumen Mail", lumen)
    team_house = make.team("Tier 1")
    maya = make.agent(team_house, name="Maya Chen")
    milo = make.agent(team_house, name="Milo Park")
    noor = make.agent(team_north, name="Noor Haddad")
    lars = make.agent(team_lumen, name="Lars Berg")
    conversations = {
        "double-charge": make.conversation(
            maya,
            external_id="ZD-1001",
            channel="chat",
            started_at=at(1),
            csat=1,
            handle_time_seconds=900,
            tags=["billing", "refund"],
            messages=[
                ("customer", "I was charged twice for my subscription."),
                ("agent", "Sorry! I have issued a refund."),
                ("customer", "Thanks"),
            ],
        ),
        "parcel": make.conversation(
            noor,
            external_id="ZD-1002",
            channel="email",
            started_at=at(2, 10),
            csat=4,
            handle_time_seconds=1800,
            tags=["shipping"],
            messages=[
                ("customer", "Where is my parcel? Tracking says delivered."),
                ("agent", "Let me open a claim with the courier."),
            ],
        ),
        "password": make.conversation(
            lars,
            external_id="ZD-1003",
            channel="phone",
            started_at=at(3, 23, 30),
            csat=None,
            handle_time_seconds=300,
            tags=["account"],
            messages=[
                ("system", "Call started"),
                ("customer", "I cannot reset my password"),
                ("agent", "I sent a reset link"),
                ("bot", "Survey sent"),
            ],
        ),
        "refund-late": make.conversation(
            milo,
            external_id="ZD-1004",
            channel="chat",
            started_at=at(4, 0),
            csat=5,
            handle_time_seconds=None,
            tags=["billing", "refund", "vip"],
            messages=[("customer", "My refund has not arrived yet"), ("agent", "It takes 5 days.")],
        ),
        "greeting": make.conversation(
            noor,
            external_id="ZD-1005",
            channel="messaging",
            started_at=at(5, 12),
            csat=3,
            handle_time_seconds=60,
            messages=[("agent", "Hello! How can I help?")],
        ),
    }
    return Catalogue(
        northwind,
        lumen,
        team_north,
        team_lumen,
        team_house,
        maya,
        milo,
        noor,
        lars,
        conversations,
    )


@pytest.fixture
def qa_client(client: FlaskClient, make: Factory, catalogue: Catalogue) -> FlaskClient:
    login(client, make.user(Role.QA_SPECIALIST))
    return client


def listed(client: FlaskClient, params: dict[str, Any] | None = None) -> list[int]:
    """The ids of the conversations on the list page, in order; the page must answer 200."""
    response = client.get(LIST, query_string=params or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return [int(found) for found in re.findall(r'data-conversation-id="(\d+)"', html)]


NEWEST_FIRST = ["greeting", "refund-late", "password", "parcel", "double-charge"]

# Each filter on its own: (query parameters, built from the catalogue; expected, newest first).
FILTER_CASES: list[tuple[str, Callable[[Catalogue], dict[str, Any]], list[str]]] = [
    ("channel", lambda c: {"channel": "chat"}, ["refund-late", "double-charge"]),
    ("team", lambda c: {"team": c.team_north.id}, ["greeting", "parcel"]),
    ("agent", lambda c: {"agent": c.maya.id}, ["double-charge"]),
    ("partner", lambda c: {"partner": c.northwind.id}, ["greeting", "parcel"]),
    ("other partner", lambda c: {"partner": c.lumen.id}, ["password"]),
    ("in-house", lambda c: {"partner": browse.IN_HOUSE}, ["refund-late", "double-charge"]),
    ("date from", lambda c: {"date_from": "2026-10-03"}, ["greeting", "refund-late", "password"]),
    (
        "date to is inclusive",
        lambda c: {"date_to": "2026-10-03"},
        ["password", "parcel", "double-charge"],
    ),
    ("one day", lambda c: {"date_from": "2026-10-04", "date_to": "2026-10-04"}, ["refund-late"]),
    ("csat min", lambda c: {"csat_min": 4}, ["refund-late", "parcel"]),
    ("csat max", lambda c: {"csat_max": 2}, ["double-charge"]),
    ("csat range", lambda c: {"csat_min": 3, "csat_max": 4}, ["greeting", "parcel"]),
    ("no csat", lambda c: {"csat_unknown": "y"}, ["password"]),
    ("one tag", lambda c: {"tags": "billing"}, ["refund-late", "double-charge"]),
    ("all tags must match", lambda c: {"tags": "billing, vip"}, ["refund-late"]),
    ("tags are normalised", lambda c: {"tags": " Billing ,VIP,, "}, ["refund-late"]),
    ("unknown tag", lambda c: {"tags": "nothing-like-this"}, []),
    ("search", lambda c: {"q": "refund"}, ["refund-late", "double-charge"]),
    ("search ignores case", lambda c: {"q": "REFUND"}, ["refund-late", "double-charge"]),
    ("multi-word search", lambda c: {"q": "charged twice"}, ["double-charge"]),
    ("search with punctuation", lambda c: {"q": "charged, twice!"}, ["double-charge"]),
    ("search without a match", lambda c: {"q": "kangaroo"}, []),
    ("empty values", lambda c: {"q": " ", "team": "", "channel": "", "tags": ""}, NEWEST_FIRST),
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [pytest.param(params, expected, id=name) for name, params, expected in FILTER_CASES],
)
def test_each_filter_narrows_the_list(
    qa_client: FlaskClient, catalogue: Catalogue, params: Any, expected: list[str]
) -> None:
    assert listed(qa_client) == catalogue.ids(*NEWEST_FIRST)
    assert listed(qa_client, params(catalogue)) == catalogue.ids(*expected)


def test_filters_combine(qa_client: FlaskClient, catalogue: Catalogue) -> None:
    params = {"channel": "chat", "tags": "refund", "csat_min": 4, "partner": browse.IN_HOUSE}
    assert listed(qa_client, params) == catalogue.ids("refund-late")
    params = {"q": "refund", "date_to": "2026-10-03", "agent": catalogue.maya.id}
    assert listed(qa_client, params) == catalogue.ids("double-charge")
    params = {"team": catalogue.team_north.id, "channel": "chat"}
    assert listed(qa_client, params) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", NEWEST_FIRST),
        ("oldest", list(reversed(NEWEST_FIRST))),
        ("csat_low", ["double-charge", "greeting", "parcel", "refund-late", "password"]),
        ("csat_high", ["refund-late", "parcel", "greeting", "double-charge", "password"]),
        ("longest", ["parcel", "double-charge", "password", "greeting", "refund-late"]),
        ("most_messages", ["password", "double-charge", "refund-late", "parcel", "greeting"]),
    ],
)
def test_sort_orders_put_unknown_values_last(
    qa_client: FlaskClient, catalogue: Catalogue, sort: str, expected: list[str]
) -> None:
    assert listed(qa_client, {"sort": sort}) == catalogue.ids(*expected)


def test_pagination_is_stable_with_equal_start_times_and_keeps_filters(
    client: FlaskClient, make: Factory
) -> None:
    agent = make.agent(name="Ada")
    same_time = [make.conversation(agent, started_at=at(7), channel="email") for _ in range(5)]
    make.conversation(agent, started_at=at(8), channel="chat")
    login(client, make.user(Role.MANAGER))
    params = {"channel": "email", "per_page": 2}
    pages = [listed(client, {**params, "page": number}) for number in (1, 2, 3)]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item for page in pages for item in page] == sorted(
        (conversation.id for conversation in same_time), reverse=True
    )
    html = client.get(LIST, query_string=params).get_data(as_text=True)
    next_link = re.search(r'href="([^"]+)" rel="next"', html)
    assert next_link is not None
    assert "channel=email" in next_link.group(1)
    assert "per_page=2" in next_link.group(1)
    assert "page=2" in next_link.group(1)
    assert "5 conversations" in html


def test_page_past_the_end_offers_the_first_page(qa_client: FlaskClient) -> None:
    html = qa_client.get(LIST, query_string={"page": 99}).get_data(as_text=True)
    assert "past the end" in html
    assert qa_client.get(LIST, query_string={"page": 10**30}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"refund',
        "*",
        "refund*",
        "OR",
        "refund OR",
        "NEAR(",
        "NEAR(refund charged",
        "refund AND NOT",
        "text:refund",
        "-refund",
        "^refund",
        "(",
        "'; DROP TABLE conversation; --",
        "%_\\",
        "refund & | ! :*",
        # "nul\x00byte" is refused (400) before any view: tests/security/test_bad_input.py
        "ünïcödé 返金",
    ],
)
def test_search_syntax_in_input_never_errors(qa_client: FlaskClient, query: str) -> None:
    response = qa_client.get(LIST, query_string={"q": query})
    assert response.status_code == 200


def test_search_for_words_matches_like_plain_words(
    qa_client: FlaskClient, catalogue: Catalogue
) -> None:
    assert listed(qa_client, {"q": '"refund"'}) == catalogue.ids("refund-late", "double-charge")
    assert listed(qa_client, {"q": "refund*"}) == catalogue.ids("refund-late", "double-charge")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"date_from": "not-a-date"}, "Not a valid date value"),
        ({"date_to": "2026-02-30"}, "Not a valid date value"),
        ({"date_from": "2026-10-05", "date_to": "2026-10-01"}, "must not be before the start"),
        ({"csat_min": "9"}, "CSAT must be a whole number from 1 to 5"),
        ({"csat_max": "three"}, "CSAT must be a whole number from 1 to 5"),
        ({"csat_min": "4", "csat_max": "2"}, "must not be below the lower"),
        ({"csat_min": "4", "csat_unknown": "y"}, "either a CSAT range or no CSAT"),
        ({"team": "abc"}, "Choose a team from the list"),
        ({"team": "987654"}, "Choose a team from the list"),
        ({"agent": "1e3"}, "Choose an agent from the list"),
        ({"partner": "-5"}, "Choose a partner from the list"),
        ({"channel": "pigeon"}, "Choose a channel from the list"),
        ({"sort": "random"}, "Choose a sort order from the list"),
        ({"q": "x" * 201}, "Field cannot be longer than 200 characters"),
        ({"tags": ",".join(f"t{n}" for n in range(11))}, "at most 10 tags"),
    ],
)
def test_invalid_filter_input_shows_the_error_and_no_results(
    qa_client: FlaskClient, params: dict[str, str], error: str
) -> None:
    response = qa_client.get(LIST, query_string=params)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error in html
    assert 'aria-invalid="true"' in html
    assert "data-conversation-id" not in html


def test_filter_chips_remove_one_filter_each(qa_client: FlaskClient) -> None:
    html = qa_client.get(LIST, query_string={"channel": "chat", "tags": "billing,refund"}).get_data(
        as_text=True
    )
    chips = re.findall(r'<a class="badge rounded-pill[^"]*" href="([^"]+)"', html)
    assert len(chips) == 3  # channel, billing, refund
    assert any("tags=billing,refund" in href and "channel" not in href for href in chips)
    assert any("tags=refund" in href and "channel=chat" in href for href in chips)


def test_tag_badges_add_the_tag_to_the_filter(qa_client: FlaskClient) -> None:
    html = qa_client.get(LIST, query_string={"tags": "refund"}).get_data(as_text=True)
    assert "tags=refund,billing" in html


def test_list_shows_the_columns_and_first_customer_line(
    qa_client: FlaskClient, catalogue: Catalogue
) -> None:
    html = qa_client.get(LIST, query_string={"agent": catalogue.lars.id}).get_data(as_text=True)
    row = html[html.index('data-conversation-id="') :]
    for expected in ("ZD-1003", "phone", "Lars Berg", "Lumen Mail", "Lumen Outsourcing", "5m 00s"):
        assert expected in row
    # The first customer line, not the system line before it.
    assert "I cannot reset my password" in row
    assert "Call started" not in row
    assert "1 conversation<" in html


def test_long_previews_are_truncated(client: FlaskClient, make: Factory) -> None:
    make.conversation(make.agent(), messages=[("customer", "word " * 200 + "THE-END")])
    login(client, make.user(Role.ADMIN))
    html = client.get(LIST).get_data(as_text=True)
    assert "THE-END" not in html
    assert "…" in html


def test_transcript_shows_bubbles_in_order_with_details(
    qa_client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    conversation = catalogue.conversations["password"]
    response = qa_client.get(f"{LIST}{conversation.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    speakers = re.findall(r'data-speaker="(\w+)"', html)
    assert speakers == ["system", "customer", "agent", "bot"]
    texts = re.findall(r'<div class="bubble-text">(.*?)</div>', html, flags=re.S)
    assert texts == [
        "Call started",
        "I cannot reset my password",
        "I sent a reset link",
        "Survey sent",
    ]
    assert "Lars Berg" in html  # agent bubbles name the agent when the message has no author
    for detail in ("ZD-1003", "test", "Lumen Mail · Lumen Outsourcing", "5m 00s", "No rating"):
        assert detail in html
    assert "Nothing removed" in html


def test_transcript_shows_redactions_metadata_and_keeps_whitespace(
    qa_client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    conversation = make.conversation(
        catalogue.maya,
        messages=[("customer", "Line one\n\n  indented line two"), ("agent", "Noted")],
        redactions={"email": 2, "card": 1},
        extra={"priority": "high", "sla": {"breached": False, "minutes": 42}, "order": 1234},
        status="solved",
        language="en",
    )
    html = qa_client.get(f"{LIST}{conversation.id}").get_data(as_text=True)
    assert "2 emails, 1 card removed" in html
    assert "Line one\n\n  indented line two" in html
    metadata = html[html.index('data-testid="conversation-metadata"') :]
    assert '<dt class="text-break">order</dt>' in metadata
    assert "1234" in metadata
    assert "&#34;high&#34;" in metadata  # JSON-encoded string, then escaped
    assert "{&#34;breached&#34;: false, &#34;minutes&#34;: 42}" in metadata
    assert metadata.index(">order<") < metadata.index(">priority<") < metadata.index(">sla<")


def test_transcript_back_link_keeps_the_list_filters(
    qa_client: FlaskClient, catalogue: Catalogue
) -> None:
    list_html = qa_client.get(LIST, query_string={"channel": "chat", "sort": "oldest"}).get_data(
        as_text=True
    )
    conversation_id = catalogue.conversations["double-charge"].id
    link = re.search(rf'href="(/conversations/{conversation_id}\?[^"]+)"', list_html)
    assert link is not None
    transcript = qa_client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    back = re.search(r'href="([^"]+)" data-testid="back-to-list"', transcript)
    assert back is not None
    assert back.group(1).startswith("/conversations/?")
    assert "channel=chat" in back.group(1)
    assert "sort=oldest" in back.group(1)


def test_transcript_back_link_ignores_foreign_parameters(
    qa_client: FlaskClient, catalogue: Catalogue
) -> None:
    conversation_id = catalogue.conversations["parcel"].id
    url = f"{LIST}{conversation_id}?_external=1&_scheme=javascript&endpoint=x&q=parcel"
    html = qa_client.get(url).get_data(as_text=True)
    assert 'href="/conversations/?q=parcel" data-testid="back-to-list"' in html
    assert "javascript:" not in html


def test_unknown_conversation_is_404(qa_client: FlaskClient) -> None:
    assert qa_client.get(f"{LIST}987654").status_code == 404


# Untrusted text ----------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_message_text_and_metadata_are_escaped_on_both_pages(
    client: FlaskClient, make: Factory
) -> None:
    agent = make.agent(name='<img src=x onerror="alert(2)">')
    conversation = make.conversation(
        agent,
        external_id='<b id="x">ext</b>',
        messages=[("customer", SCRIPT), ("agent", "<i>hi</i> & bye")],
        tags=["<svg onload=alert(3)>"],
        extra={"<u>key</u>": "<iframe src=//evil>", "nested": ["</code><script>"]},
        status="<em>open</em>",
    )
    login(client, make.user(Role.ADMIN))
    pages = [client.get(LIST).get_data(as_text=True)]
    pages.append(client.get(f"{LIST}{conversation.id}").get_data(as_text=True))
    for html in pages:
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html
        assert "<svg" not in html
        assert '<b id="x">' not in html
    transcript = pages[1]
    assert "<iframe" not in transcript
    assert "&lt;iframe src=//evil&gt;" in transcript
    assert "&lt;u&gt;key&lt;/u&gt;" in transcript
    assert "</code><script>" not in transcript
    assert "<em>open</em>" not in transcript
    assert "&lt;i&gt;hi&lt;/i&gt; &amp; bye" in transcript


# Scope -------------------------------------------------------------------------------------------


def test_in_house_staff_list_every_conversation(
    client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    login(client, make.user(Role.MANAGER))
    html = client.get(LIST).get_data(as_text=True)
    assert listed(client) == catalogue.ids(*NEWEST_FIRST)
    for option in ("Northwind Chat", "Lumen Mail", "Tier 1", "In-house", "Lars Berg"):
        assert option in html


@pytest.mark.parametrize("role", [Role.PARTNER_VIEWER, Role.PARTNER_QA])
def test_partner_user_lists_only_own_partners_conversations(
    client: FlaskClient, make: Factory, catalogue: Catalogue, role: Role
) -> None:
    login(client, make.user(role, partner=catalogue.northwind))
    assert listed(client) == catalogue.ids("greeting", "parcel")
    # Filters cannot widen the scope, and other partners' teams and agents are not offered.
    assert listed(client, {"q": "refund"}) == []
    assert listed(client, {"tags": "account"}) == []
    html = client.get(LIST).get_data(as_text=True)
    for hidden in ("Lumen Mail", "Tier 1", "Lars Berg", "Maya Chen", 'name="partner"'):
        assert hidden not in html
    assert "Noor Haddad" in html
    response = client.get(LIST, query_string={"team": catalogue.team_lumen.id})
    assert response.status_code == 400
    assert "Choose a team from the list" in response.get_data(as_text=True)
    # Popular tags come only from the partner's own conversations.
    assert '<option value="shipping">' in html
    assert '<option value="billing">' not in html


def test_agent_lists_only_own_conversations(
    client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    login(client, make.user(Role.AGENT, agent=catalogue.noor))
    html = client.get(LIST).get_data(as_text=True)
    assert listed(client) == catalogue.ids("greeting", "parcel")
    assert "My conversations" in html
    for field in ('name="team"', 'name="agent"', 'name="partner"'):
        assert field not in html
    assert listed(client, {"agent": catalogue.maya.id, "team": catalogue.team_house.id}) == (
        catalogue.ids("greeting", "parcel")
    )


def test_agent_gets_404_for_another_agents_conversation(
    client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    login(client, make.user(Role.AGENT, agent=catalogue.maya))
    own = catalogue.conversations["double-charge"].id
    colleague = catalogue.conversations["refund-late"].id  # same team, other agent
    assert client.get(f"{LIST}{own}").status_code == 200
    assert client.get(f"{LIST}{colleague}").status_code == 404


def test_navigation_names_the_list_for_each_role(
    client: FlaskClient, make: Factory, catalogue: Catalogue
) -> None:
    login(client, make.user(Role.PARTNER_QA, partner=catalogue.lumen))
    assert ">Conversations</a>" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, make.user(Role.AGENT, agent=catalogue.maya))
    assert ">My conversations</a>" in client.get("/").get_data(as_text=True)


# Query count -------------------------------------------------------------------------------------


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs while the fixture is active."""
    with recorded_statements(app.extensions["qa_db_engine"]) as seen:
        yield seen


def test_list_page_runs_a_fixed_number_of_queries_whatever_its_size(
    client: FlaskClient, make: Factory, statements: list[str]
) -> None:
    partners = [make.partner(f"Vendor {number}") for number in range(3)]
    teams = [make.team(f"Squad {number}", partners[number % 3]) for number in range(6)]
    teams.append(make.team("House"))
    agents = [make.agent(teams[number % 7], name=f"Person {number}") for number in range(14)]
    for number in range(40):
        make.conversation(
            agents[number % 14],
            tags=[f"tag{number % 5}", f"topic{number % 3}"],
            messages=[("agent", "Hi"), ("customer", f"Question {number}")],
            csat=number % 5 + 1,
        )
    login(client, make.user(Role.QA_SPECIALIST))

    counts = {}
    for per_page in (2, 10, 40):
        statements.clear()
        html = client.get(LIST, query_string={"per_page": per_page}).get_data(as_text=True)
        assert html.count("data-conversation-id=") == per_page
        for loaded in ("Question", "Person", "Squad", "Vendor", "tag0"):
            assert loaded in html
        counts[per_page] = len(statements)
    assert counts[2] == counts[10] == counts[40], counts
    # User, 3 filter choices, count, page, agents, teams, partners, tags, previews, popular tags.
    assert counts[40] <= 12, statements


def test_transcript_loads_messages_in_one_query(
    qa_client: FlaskClient, catalogue: Catalogue, statements: list[str]
) -> None:
    conversation = catalogue.conversations["password"]
    qa_client.get(f"{LIST}{conversation.id}")
    message_queries = [sql for sql in statements if "FROM message" in sql]
    assert len(message_queries) == 1
    assert "ORDER BY message.position" in message_queries[0]


# Pure helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("redactions", "expected"),
    [
        ({}, ""),
        (None, ""),
        ({"email": 2, "card": 1}, "2 emails, 1 card removed"),
        ({"phone": 1}, "1 phone number removed"),
        ({"iban": 3, "email": 1, "phone": 2}, "1 email, 2 phone numbers, 3 IBANs removed"),
        ({"email": 0}, ""),
    ],
)
def test_redaction_summary(redactions: dict[str, int] | None, expected: str) -> None:
    assert browse.redaction_summary(redactions) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, "—"), (0, "0s"), (59, "59s"), (754, "12m 34s"), (3600, "1h 00m"), (3900, "1h 05m")],
)
def test_format_duration(seconds: int | None, expected: str) -> None:
    assert browse.format_duration(seconds) == expected


def test_filters_know_whether_they_filter() -> None:
    assert not ConversationFilters().is_filtered
    assert not ConversationFilters(sort=SortKey.OLDEST).is_filtered
    assert ConversationFilters(tags=("vip",)).is_filtered
    assert ConversationFilters(date_to=date.max).is_filtered


def test_open_ended_date_range_does_not_overflow(qa_client: FlaskClient) -> None:
    assert qa_client.get(LIST, query_string={"date_to": "9999-12-31"}).status_code == 200
    assert qa_client.get(LIST, query_string={"date_from": "0001-01-01"}).status_code == 200


def test_reviewed_filter_and_reviews_on_the_transcript(client: Any, make: Factory, db: Any) -> None:
    from qa_app.reviews.models import Review, ReviewStatus
    from tests.reviews.factories import published_scorecard

    agent = make.agent(make.team("Reviewed team"))
    reviewed = make.conversation(agent, messages=[("customer", "first one")])
    draft_only = make.conversation(agent, messages=[("customer", "second one")])
    untouched = make.conversation(agent, messages=[("customer", "third one")])
    qa = make.user(Role.QA_SPECIALIST)
    version = published_scorecard(db).version
    for conversation, status in (
        (reviewed, ReviewStatus.SUBMITTED),
        (draft_only, ReviewStatus.DRAFT),
    ):
        db.add(
            Review(
                conversation_id=conversation.id,
                scorecard_version_id=version.id,
                reviewer_id=qa.id,
                agent_id=agent.id,
                team_id=agent.team_id,
                status=status,
                score=88.5 if status == ReviewStatus.SUBMITTED else None,
            )
        )
    db.commit()
    login(client, make.user(Role.MANAGER))
    yes = client.get("/conversations/?reviewed=yes").get_data(as_text=True)
    no = client.get("/conversations/?reviewed=no").get_data(as_text=True)
    assert "first one" in yes
    assert "second one" not in yes
    assert "second one" in no
    assert "third one" in no
    assert "first one" not in no
    page = client.get(f"/conversations/{reviewed.id}").get_data(as_text=True)
    assert "88.5" in page
    assert "Review this conversation" in page
    assert "Not reviewed yet." in client.get(f"/conversations/{untouched.id}").get_data(
        as_text=True
    )
    invalid = client.get("/conversations/?reviewed=maybe")
    assert invalid.status_code == 400
    assert "Choose reviewed or not from the list." in invalid.get_data(as_text=True)
