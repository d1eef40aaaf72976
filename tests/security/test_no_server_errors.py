"""Random bodies and query strings to every API endpoint and web form: never a 500, and a
refused request (4xx) writes nothing.

Hypothesis draws, per route, path ids (real ones, and integers far beyond any database's
range), query strings and bodies built from the field names the app uses, with text that
carries NUL and control characters, huge numbers, odd dates and deeply nested JSON. Each
route is its own test so xdist spreads them; ``QA_FUZZ_EXAMPLES`` raises the examples per
route for a longer hunt (the default keeps the whole module around half a minute).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from qa_app.auth.tokens import create_token
from qa_app.db import Model
from tests.conftest import Factory, login
from tests.routes import ROUTE_ACCESS, build_world

EXAMPLES = int(os.environ.get("QA_FUZZ_EXAMPLES", "6"))

# Routes whose success ends the test's own access (they are fuzzed elsewhere or not at all).
SKIPPED = {"/logout"}

FIELD_NAMES = [
    "page",
    "per_page",
    "status",
    "team",
    "team_id",
    "agent",
    "agent_id",
    "partner",
    "partner_id",
    "channel",
    "q",
    "since",
    "until",
    "from",
    "to",
    "sort",
    "order",
    "period",
    "plan",
    "plan_id",
    "reviewer",
    "reviewer_id",
    "conversation_id",
    "conversation_ids",
    "scorecard_version_id",
    "answers",
    "comment",
    "comments",
    "reason",
    "value",
    "criterion",
    "criterion_id",
    "name",
    "email",
    "role",
    "password",
    "new_password",
    "title",
    "due_at",
    "tolerance",
    "rater_ids",
    "body",
    "is_decision",
    "submit",
    "action",
    "format",
    "source",
    "partial",
    "dry_run",
    "unknown_agents",
    "token",
    "next",
    "csrf_token",
    "month",
    "seed",
    "size",
    "external_id",
    "started_at",
    "sent_at",
    "messages",
    "text",
    "speaker",
    "tags",
]

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\r\nSet-Cookie: x=1",
        "<script>alert(1)</script>",
        "=1+1",
        "99999999999999999999",
        "-99999999999999999999",
        "2147483648",
        "-1",
        "0",
        "1e309",
        "NaN",
        "9999-12-31T23:00:00-12:00",
        "0001-01-01T00:00:00+14:00",
        "2026-13-45",
        "yes",
        "no",
        "na",
        "true",
        "null",
        "%00",
        "\ud7ff",
        "ü" * 300,
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=40), st.integers().map(str))
KEYS = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=12))
HUGE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, -1, 2**31, 2**63])
)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), HUGE, st.floats(allow_nan=False, allow_infinity=False), TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=12,
)
DEEP = st.integers(min_value=1_000, max_value=60_000).map(lambda depth: "[" * depth + "]" * depth)
JSON_BODIES = st.one_of(
    st.dictionaries(KEYS, JSON_VALUES, max_size=8).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    DEEP,
    TEXT,
)
QUERY = st.lists(st.tuples(KEYS, TEXT), max_size=5)
FORM = st.lists(st.tuples(KEYS, TEXT), max_size=10)


def _routes(prefix_api: bool) -> list[tuple[str, str]]:
    pairs = []
    for rule, access in sorted(ROUTE_ACCESS.items()):
        if rule in SKIPPED or rule.startswith("/api/") != prefix_api:
            continue
        pairs.append((rule, access.method))
        if access.method == "GET":
            pairs.append((rule, "POST"))  # most forms post back to the page that shows them
    return pairs


def _row_counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.scalar(select(func.count()).select_from(table)) or 0
        for table in Model.metadata.sorted_tables
    }


def _path(rule: str, ids: dict[str, int], draw: Any) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        known = [ids[name]] if name in ids else []
        return str(draw(st.one_of(st.sampled_from(known), HUGE) if known else HUGE))

    return re.sub(r"<int:(\w+)>", one, rule)


def _check(response: Any, before: dict[str, int], db: Session, what: str) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"
    if response.status_code >= 400:
        assert _row_counts(db) == before, f"{what} answered {response.status_code} but wrote"


@pytest.fixture
def world(app: Flask, make: Factory) -> dict[str, Any]:
    """One world per test: the examples of a test share it (tables are emptied after it)."""
    built = build_world(make)
    admin = built.users["admin"]
    _token, secret = create_token(make.session, admin, "fuzz")
    make.session.commit()
    client = app.test_client()
    login(client, admin)
    return {"ids": built.ids, "secret": secret, "client": client}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize(("rule", "method"), _routes(prefix_api=True))
@FUZZ
@given(data=st.data(), body=JSON_BODIES, query=QUERY)
def test_api_endpoint_never_answers_500(
    app: Flask,
    world: dict[str, Any],
    db: Session,
    rule: str,
    method: str,
    data: Any,
    body: str,
    query: list[tuple[str, str]],
) -> None:
    client = app.test_client()
    url = _path(rule, world["ids"], data.draw)
    headers = {"Authorization": f"Bearer {world['secret']}"}
    before = _row_counts(db)
    response = client.open(
        url,
        method=method,
        query_string=MultiDict(query),
        data=body.encode("utf-8", "surrogatepass"),
        headers={**headers, "Content-Type": "application/json"},
    )
    _check(response, before, db, f"{method} {url}")


@pytest.mark.parametrize(("rule", "method"), _routes(prefix_api=False))
@FUZZ
@given(data=st.data(), form=FORM, query=QUERY)
def test_web_route_never_answers_500(
    world: dict[str, Any],
    db: Session,
    rule: str,
    method: str,
    data: Any,
    form: list[tuple[str, str]],
    query: list[tuple[str, str]],
) -> None:
    client: FlaskClient = world["client"]
    url = _path(rule, world["ids"], data.draw)
    before = _row_counts(db)
    response = client.open(url, method=method, query_string=MultiDict(query), data=MultiDict(form))
    _check(response, before, db, f"{method} {url}")
