"""/api/v1/openapi.json: a valid OpenAPI 3.1 document that matches the routes and the answers.

The document is generated from the endpoints' declarations (qa_app/api/endpoint.py). Adding an
/api/v1 route without declaring it (or documenting one that does not exist) fails
test_document_covers_exactly_the_routes; an answer that gains or loses a key fails the spot
checks against real answers.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from pydantic import BaseModel
from sqlalchemy.orm import Session

from qa_app.calibration import services as calibration_services
from qa_app.org.roles import Role
from qa_app.sampling import services as sampling_services
from tests.api.openapi_checks import check_answer, load_document, resolve, response_schema
from tests.calibration.factories import calibration_world, rate
from tests.conftest import Factory, bearer
from tests.reviews.factories import published_scorecard
from tests.sampling.factories import WEEK, make_plan

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def document(shared_app: Flask) -> dict[str, Any]:
    return load_document(shared_app)


# The document itself ----------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "qa_app API"
    assert document["servers"] == [{"url": PREFIX}]
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_document_covers_exactly_the_routes(app: Flask, document: dict[str, Any]) -> None:
    routes = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX)), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{PREFIX}/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    assert sorted(routes - documented) == [], "routes missing from the OpenAPI document"
    assert sorted(documented - routes) == [], "documented in the OpenAPI document but no such route"


def test_path_parameters_are_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {
                parameter["name"]
                for parameter in (resolve(document, p) for p in operation.get("parameters", []))
                if parameter["in"] == "path"
            }
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)


def test_only_the_document_itself_needs_no_token(document: dict[str, Any]) -> None:
    open_operations = {
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS and operation.get("security") == []
    }
    assert open_operations == {("/openapi.json", "get")}


# Served by the app ------------------------------------------------------------------------------


def test_served_without_a_token(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document


def test_served_with_a_token_too(client: FlaskClient, db: Session, make: Factory) -> None:
    response = client.get(f"{PREFIX}/openapi.json", headers=bearer(db, make.user(Role.AGENT)))
    assert response.status_code == 200


def test_other_routes_still_need_a_token(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.get(f"{PREFIX}/me")
    assert response.status_code == 401
    check_answer(document, response_schema(document, "/me", "get", 401), response.get_json())


# Real answers against the documented schemas ----------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PARTNER_QA, Role.AGENT])
def test_me_matches_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any], role: Role
) -> None:
    response = client.get(f"{PREFIX}/me", headers=bearer(db, make.user(role)))
    assert response.status_code == 200
    check_answer(document, response_schema(document, "/me", "get", 200), response.get_json())


def test_conversations_match_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any]
) -> None:
    partner = make.partner("Lumen")
    agent = make.agent(make.team("Lumen team", partner), name="Lars")
    conversation = make.conversation(agent, tags=["refund"], csat=4, extra={"queue": "vip"})
    make.conversation(None)  # no agent, no team
    headers = bearer(db, make.user(Role.ADMIN))

    listed = client.get(f"{PREFIX}/conversations?per_page=1", headers=headers)
    assert listed.status_code == 200
    page = listed.get_json()
    assert page["next"] is not None
    check_answer(document, response_schema(document, "/conversations", "get", 200), page)

    one = client.get(f"{PREFIX}/conversations/{conversation.id}", headers=headers)
    path = "/conversations/{conversation_id}"
    assert one.status_code == 200
    check_answer(document, response_schema(document, path, "get", 200), one.get_json())

    missing = client.get(f"{PREFIX}/conversations/999999", headers=headers)
    assert missing.status_code == 404
    check_answer(document, response_schema(document, path, "get", 404), missing.get_json())

    bad = client.get(f"{PREFIX}/conversations?channel=fax", headers=headers)
    assert bad.status_code == 400
    check_answer(document, response_schema(document, "/conversations", "get", 400), bad.get_json())


def test_import_report_matches_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any]
) -> None:
    record = {
        "external_id": "oa-1",
        "source": "openapi-test",
        "channel": "chat",
        "agent": {"external_id": "ag-oa", "name": "Oa Agent", "team": "Oa Team"},
        "started_at": "2026-10-01T09:00:00+02:00",
        "messages": [{"speaker": "customer", "text": "Hello"}],
    }
    response = client.post(
        f"{PREFIX}/conversations",
        data=json.dumps([record, {**record, "external_id": "oa-2", "channel": "fax"}]),
        headers={**bearer(db, make.user(Role.ADMIN)), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    schema = response_schema(document, "/conversations", "post", 422)
    check_answer(document, schema, response.get_json())


def test_scorecards_and_reviews_match_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any]
) -> None:
    card = published_scorecard(db)
    conversation = make.conversation(make.agent())
    headers = bearer(db, make.user(Role.QA_SPECIALIST))

    scorecards = client.get(f"{PREFIX}/scorecards", headers=headers)
    assert scorecards.status_code == 200
    schema = response_schema(document, "/scorecards", "get", 200)
    check_answer(document, schema, scorecards.get_json())

    version = client.get(f"{PREFIX}/scorecards/{card.scorecard.id}/versions/1", headers=headers)
    assert version.status_code == 200
    path = "/scorecards/{scorecard_id}/versions/{number}"
    check_answer(document, response_schema(document, path, "get", 200), version.get_json())

    invalid = client.post(f"{PREFIX}/reviews", json={"answers": []}, headers=headers)
    assert invalid.status_code == 422
    check_answer(document, response_schema(document, "/reviews", "post", 422), invalid.get_json())

    body = {
        "conversation_id": conversation.id,
        "scorecard_id": card.scorecard.id,
        "answers": {"greeting": "yes", "empathy": 3, "accuracy": 2, "identity": "na"},
        "comments": {"empathy": "Warm."},
        "submit": True,
    }
    created = client.post(f"{PREFIX}/reviews", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    check_answer(document, response_schema(document, "/reviews", "post", 201), created.get_json())

    listed = client.get(f"{PREFIX}/reviews", headers=headers)
    assert listed.status_code == 200
    check_answer(document, response_schema(document, "/reviews", "get", 200), listed.get_json())

    one = client.get(f"{PREFIX}/reviews/{created.get_json()['id']}", headers=headers)
    assert one.status_code == 200
    path = "/reviews/{review_id}"
    check_answer(document, response_schema(document, path, "get", 200), one.get_json())
    missing = client.get(f"{PREFIX}/reviews/999999", headers=headers)
    assert missing.status_code == 404
    check_answer(document, response_schema(document, path, "get", 404), missing.get_json())


def test_assignments_match_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any]
) -> None:
    card = published_scorecard(db)
    agent = make.agent(make.team())
    make.conversation(agent, started_at=WEEK.start)
    reviewer = make.user(Role.QA_SPECIALIST)
    plan = make_plan(db, card, "Spot check", [reviewer], 1)
    sampling_services.run_plan(db, plan, WEEK)
    db.commit()
    headers = bearer(db, make.user(Role.MANAGER))

    listed = client.get(f"{PREFIX}/assignments?status=all", headers=headers)
    assert listed.status_code == 200
    check_answer(document, response_schema(document, "/assignments", "get", 200), listed.get_json())
    [item] = listed.get_json()["items"]
    other = make.user(Role.QA_SPECIALIST)
    moved = client.post(
        f"{PREFIX}/assignments/{item['id']}/reassign",
        json={"reviewer_id": other.id},
        headers=headers,
    )
    assert moved.status_code == 200, moved.get_json()
    path = "/assignments/{assignment_id}/reassign"
    check_answer(document, response_schema(document, path, "post", 200), moved.get_json())
    assert moved.get_json()["history"][0]["action"] == "reassigned"
    one = client.get(f"{PREFIX}/assignments/{item['id']}", headers=headers)
    path = "/assignments/{assignment_id}"
    check_answer(document, response_schema(document, path, "get", 200), one.get_json())
    refused = client.post(f"{PREFIX}/assignments/{item['id']}/skip", json={}, headers=headers)
    assert refused.status_code == 422
    path = "/assignments/{assignment_id}/skip"
    check_answer(document, response_schema(document, path, "post", 422), refused.get_json())


def test_calibration_matches_schema(
    client: FlaskClient, db: Session, make: Factory, document: dict[str, Any]
) -> None:
    world = calibration_world(db, make)
    draft = client.post(
        f"{PREFIX}/calibration/sessions/{world.calibration.id}/ratings",
        json={"conversation_id": world.conversations[0].id, "answers": {"greeting": "yes"}},
        headers=bearer(db, world.users["qa"]),
    )
    assert draft.status_code == 201, draft.get_json()
    ratings = "/calibration/sessions/{session_id}/ratings"
    check_answer(document, response_schema(document, ratings, "post", 201), draft.get_json())
    for rater in world.raters:
        for conversation in world.conversations:
            rate(db, world, rater, conversation)
    session_path = f"{PREFIX}/calibration/sessions/{world.calibration.id}"
    qa = bearer(db, world.users["qa"])
    manager = bearer(db, world.users["manager"])

    def check(url: str, path: str, headers: dict[str, str]) -> None:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        check_answer(document, response_schema(document, path, "get", 200), answer.get_json())

    sessions = "/calibration/sessions"
    check(f"{PREFIX}{sessions}", sessions, qa)
    check(session_path, f"{sessions}/{{session_id}}", qa)  # blind, as a rater
    check(session_path, f"{sessions}/{{session_id}}", manager)  # blind, with progress
    conversation_id = world.conversations[0].id
    check(
        f"{session_path}/conversations/{conversation_id}",
        f"{sessions}/{{session_id}}/conversations/{{conversation_id}}",
        qa,
    )
    calibration_services.reveal(db, world.calibration, by=world.users["manager"])
    db.commit()
    check(session_path, f"{sessions}/{{session_id}}", qa)  # revealed: ratings and notes
    check(f"{session_path}/results", f"{sessions}/{{session_id}}/results", manager)


def test_every_model_has_a_name_of_its_own(shared_app: Flask) -> None:
    """Components are named by their class (qa_app/api/spec.py): two models of one name would
    be documented as one schema."""
    found: list[type[BaseModel]] = []
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("qa_app.") and model not in found:
            found.append(model)
    names = Counter(model.__name__ for model in found)
    assert sorted(name for name, count in names.items() if count > 1) == []
