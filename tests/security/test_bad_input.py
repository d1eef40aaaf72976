"""Bad input answers a clear 4xx and writes nothing, on SQLite and PostgreSQL: NUL characters.

PostgreSQL cannot store NUL characters, so they are refused at every way in with the field
named, on both databases: web forms, query strings, JSON bodies; JSON nested 50,000 levels deep
is "nested too deeply". Numbers: test_bad_numbers.py; imports: tests/conversations.
"""

from __future__ import annotations

import importlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import FieldList, FormField, StringField
from wtforms import Form as PlainForm

from qa_app.forms import NUL_MESSAGE, Form
from qa_app.org.roles import Role
from qa_app.reviews import services as review_services
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from tests.calibration.factories import calibration_world
from tests.conftest import Factory, bearer, login
from tests.reviews.factories import PERFECT
from tests.security.bad_input_support import DEEP, NUL, World, make_world, row_counts


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    return make_world(db, make)


# Web forms: NUL characters ----------------------------------------------------------------------


class _Item(PlainForm):
    note = StringField("Note")


class _Nested(Form):
    title = StringField("Title")
    items = FieldList(FormField(_Item), min_entries=1)


def test_the_base_form_refuses_nul_even_inside_field_lists(app: Flask) -> None:
    data = {"title": "fine", "items-0-note": "a\x00b", "items-1-note": "ok"}
    with app.test_request_context("/", method="POST", data=data):
        form = _Nested()
        assert not form.validate()
        assert form.items.entries[0].form.note.errors == [NUL_MESSAGE]
        assert form.items.entries[1].form.note.errors == []
        assert form.title.errors == []


FORM_MODULES = [
    f"qa_app.{name}"
    for name in (
        "admin.forms",
        "auth.forms",
        "org.forms",
        "conversations.forms",
        "conversations.import_forms",
        "reviews.forms",
        "calibration.forms",
        "sampling.forms",
        "scorecards.forms",
    )
]


def test_every_form_of_the_app_is_the_base_form() -> None:
    for name in FORM_MODULES:
        importlib.import_module(name)

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(sub) for sub in found))

    app_forms = {cls for cls in subclasses(FlaskForm) if cls.__module__ in FORM_MODULES}
    assert len(app_forms) > 30
    assert sorted(cls.__name__ for cls in app_forms if not issubclass(cls, Form)) == []


def test_a_team_name_with_nul_is_a_form_error_kept_in_the_form(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    login(client, make.user(Role.ADMIN))
    before = row_counts(db)
    response = client.post("/org/teams/new", data={"name": "Tier\x00 9", "partner_id": 0})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert NUL_MESSAGE in page
    assert "Tier" in page  # the input is kept
    assert row_counts(db) == before


def test_a_token_name_with_nul_is_a_form_error(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    login(client, make.user(Role.MANAGER))
    before = row_counts(db)
    response = client.post("/account/tokens", data={"name": "nightly\x00import"})
    assert response.status_code in (200, 422)
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_a_login_with_nul_is_a_form_error(client: FlaskClient, db: Session, make: Factory) -> None:
    user = make.user(Role.QA_SPECIALIST)
    before = row_counts(db)
    response = client.post("/login", data={"email": user.email + NUL, "password": "x\x00"})
    assert response.status_code == 200
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_review_and_criterion_comments_with_nul_are_form_errors(
    client: FlaskClient, db: Session, world: World
) -> None:
    review = review_services.start_review(
        db, world.conversation, world.qa, version=world.card.version
    )
    db.commit()
    login(client, world.qa)
    greeting = world.card.criteria["greeting"].id
    before = row_counts(db)
    response = client.post(
        f"/reviews/{review.id}/edit",
        data={
            f"answer_{greeting}": "yes",
            f"comment_{greeting}": "polite\x00",
            "overall_comment": "good\x00",
            "save": "Save draft",
        },
    )
    assert response.status_code == 422
    assert response.get_data(as_text=True).count(NUL_MESSAGE) == 2
    assert row_counts(db) == before
    db.refresh(review)
    assert review.overall_comment in (None, "")


def test_a_skip_reason_with_nul_is_refused(client: FlaskClient, db: Session, world: World) -> None:
    login(client, world.admin)
    before = row_counts(db)
    response = client.post(
        f"/sampling/assignments/{world.assignment_id}/skip",
        data={"reason": "duplicate\x00"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert row_counts(db) == before
    assert db.get(ReviewAssignment, world.assignment_id).status == AssignmentStatus.OPEN


# Query strings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/conversations/?q=refund%00", "/org/agents?q=%00", "/reviews/?%00=1"]
)
def test_a_query_parameter_with_nul_is_400(
    client: FlaskClient, db: Session, make: Factory, url: str
) -> None:
    login(client, make.user(Role.ADMIN))
    before = row_counts(db)
    response = client.get(url)
    assert response.status_code == 400
    assert "must not contain NUL characters" in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_an_api_query_parameter_with_nul_is_400_naming_it(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    headers = bearer(db, make.user(Role.ADMIN))
    response = client.get("/api/v1/conversations?source=zen%00desk", headers=headers)
    assert response.status_code == 400
    assert response.json["error"]["message"] == (
        "Query parameter 'source' must not contain NUL characters."
    )


# JSON bodies ------------------------------------------------------------------------------------


def test_an_api_review_with_nul_is_422_naming_each_field(
    client: FlaskClient, db: Session, world: World
) -> None:
    headers = bearer(db, world.qa)
    before = row_counts(db)
    body = {
        "conversation_id": world.conversation.id,
        "answers": PERFECT,
        "comments": {"greeting": "hi\x00"},
        "overall_comment": "\x00",
    }
    response = client.post("/api/v1/reviews", headers=headers, json=body)
    assert response.status_code == 422, response.json
    fields = {error["field"] for error in response.json["error"]["errors"]}
    assert fields == {"comments.greeting", "overall_comment"}
    assert {e["message"] for e in response.json["error"]["errors"]} == {"contains a NUL character"}
    assert row_counts(db) == before


def test_an_api_skip_reason_with_nul_is_422(client: FlaskClient, db: Session, world: World) -> None:
    headers = bearer(db, world.admin)
    before = row_counts(db)
    response = client.post(
        f"/api/v1/assignments/{world.assignment_id}/skip",
        headers=headers,
        json={"reason": "spam\x00"},
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["errors"] == [
        {"field": "reason", "message": "contains a NUL character"}
    ]
    assert row_counts(db) == before


def test_an_api_rating_with_nul_is_422(client: FlaskClient, db: Session, make: Factory) -> None:
    calibration = calibration_world(db, make)
    headers = bearer(db, calibration.users["qa"])
    before = row_counts(db)
    response = client.post(
        f"/api/v1/calibration/sessions/{calibration.calibration.id}/ratings",
        headers=headers,
        json={
            "conversation_id": calibration.conversations[0].id,
            "answers": PERFECT,
            "comments": {"empathy\x00": "x"},
        },
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["errors"][0]["field"] == "comments.empathy\\0"
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/reviews", "qa"),
        ("/api/v1/assignments/{assignment}/skip", "admin"),
        ("/api/v1/assignments/{assignment}/reassign", "admin"),
    ],
)
def test_deeply_nested_api_bodies_are_400(
    client: FlaskClient, db: Session, world: World, path: str, who: str
) -> None:
    headers = bearer(db, getattr(world, who))
    before = row_counts(db)
    response = client.post(
        path.format(assignment=world.assignment_id),
        headers={**headers, "Content-Type": "application/json"},
        data='{"reason": ' + DEEP + "}",
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json["error"]["message"]
    assert row_counts(db) == before


def test_a_deeply_nested_rating_is_400(client: FlaskClient, db: Session, make: Factory) -> None:
    calibration = calibration_world(db, make)
    headers = bearer(db, calibration.users["qa"])
    before = row_counts(db)
    response = client.post(
        f"/api/v1/calibration/sessions/{calibration.calibration.id}/ratings",
        headers={**headers, "Content-Type": "application/json"},
        data=DEEP,
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json["error"]["message"]
    assert row_counts(db) == before
