"""Numbers no database row can have answer 400 or 404, never 500, and write nothing.

PostgreSQL's integer is 32-bit, SQLite's 64-bit: ids in URLs, query strings and JSON bodies are
bounded to 1..2**31-1 on both; times that leave the calendar once in UTC are a 400.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.calibration.forms import parse_ids
from qa_app.org.roles import Role
from qa_app.untrusted import MAX_ID
from tests.conftest import Factory, bearer, login
from tests.reviews.factories import PERFECT
from tests.security.bad_input_support import (
    HUGE,
    JUST_PAST,
    World,
    make_world,
    row_counts,
)


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    return make_world(db, make)


# Ids beyond the database's integers -------------------------------------------------------------


def test_every_id_in_a_url_beyond_the_range_is_404(
    app: Flask, client: FlaskClient, db: Session, make: Factory
) -> None:
    admin = make.user(Role.ADMIN)
    login(client, admin)
    headers = bearer(db, admin)
    before = row_counts(db)
    urls = [
        re.sub(r"<int:\w+>", value, rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and "<int:" in rule.rule
        for value in (HUGE, JUST_PAST, "9" * 5000)
    ]
    assert len(urls) > 60
    for url in urls:
        assert client.get(url, headers=headers).status_code == 404, url
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/org/agents?page={HUGE}", 200),  # past the end: an empty page
        (f"/reviews/?page={HUGE}", 200),  # past the end: an empty page
        (f"/calibration/?page={HUGE}", 200),  # past the end: an empty page
        (f"/admin/users?page={HUGE}", 200),  # past the end: an empty page
        (f"/reviews/queue?page={HUGE}", 200),  # past the end: an empty page
        (f"/sampling/assignments?page={HUGE}", 200),  # past the end: an empty page
        (f"/conversations/import/history?page={HUGE}", 200),  # past the end: an empty page
        (f"/org/agents?team={HUGE}", 400),
        (f"/org/agents?team={JUST_PAST}", 400),
    ],
)
def test_list_pages_take_numbers_beyond_the_range(
    client: FlaskClient, make: Factory, url: str, status: int
) -> None:
    login(client, make.user(Role.ADMIN))
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    "query",
    [
        f"conversations?page={HUGE}",
        f"conversations?team_id={JUST_PAST}",
        f"reviews?reviewer_id={HUGE}",
        f"reviews?conversation_id={JUST_PAST}",
        f"reviews?agent_id={JUST_PAST}",
        f"assignments?plan_id={JUST_PAST}",
        f"assignments?reviewer_id={HUGE}",
        f"calibration/sessions?page={HUGE}",
    ],
)
def test_api_lists_refuse_numbers_beyond_the_range_naming_the_parameter(
    client: FlaskClient, db: Session, make: Factory, query: str
) -> None:
    headers = bearer(db, make.user(Role.ADMIN))
    response = client.get(f"/api/v1/{query}", headers=headers)
    assert response.status_code == 400
    name = query.split("?")[1].split("=")[0]
    assert f"Query parameter '{name}'" in response.json["error"]["message"]


@pytest.mark.parametrize("value", [MAX_ID + 1, 10**20])
def test_json_ids_beyond_the_range_are_422(
    client: FlaskClient, db: Session, world: World, value: int
) -> None:
    qa_headers, admin_headers = bearer(db, world.qa), bearer(db, world.admin)
    before = row_counts(db)
    for field in ("conversation_id", "scorecard_id"):
        body = {"conversation_id": world.conversation.id, "answers": PERFECT, field: value}
        response = client.post("/api/v1/reviews", headers=qa_headers, json=body)
        assert response.status_code == 422, response.json
        assert response.json["error"]["errors"] == [
            {"field": field, "message": f"must be an id from 1 to {MAX_ID}"}
        ]
    response = client.post(
        f"/api/v1/assignments/{world.assignment_id}/reassign",
        headers=admin_headers,
        json={"reviewer_id": value},
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["errors"][0]["field"] == "reviewer_id"
    assert row_counts(db) == before


def test_calibration_conversation_ids_beyond_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="is not a conversation id"):
        parse_ids(f"12, {JUST_PAST}")
    with pytest.raises(ValueError, match="is not a conversation id"):
        parse_ids("12 ²")  # a digit to str.isdigit(), not to int()
    assert parse_ids(f"#12, {MAX_ID}") == [12, MAX_ID]


# Times beyond the calendar in query strings -----------------------------------------------------


def test_an_api_time_beyond_the_calendar_is_400(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    headers = bearer(db, make.user(Role.ADMIN))
    for query in ("from=9999-12-31T23:00:00-12:00", "to=0001-01-01T00:00:00%2B14:00"):
        response = client.get(f"/api/v1/conversations?{query}", headers=headers)
        assert response.status_code == 400, query
        assert "out of range" in response.json["error"]["message"]
    assert client.get("/api/v1/conversations?to=9999-12-31", headers=headers).status_code == 200


def test_the_last_day_of_the_calendar_is_a_valid_upper_bound(
    client: FlaskClient, make: Factory
) -> None:
    login(client, make.user(Role.ADMIN))
    assert client.get("/reviews/?submitted_to=9999-12-31").status_code == 200
    assert client.get("/conversations/?date_to=9999-12-31").status_code == 200
