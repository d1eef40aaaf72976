"""Another partner's name never reaches a partner user: pages, CSV and API of calibration.

A revealed session rated by in-house, Northwind and Lumen raters, each with a note. A Northwind
user (rater or viewer) reads Northwind's names, "In-house", and "a rater of another partner" /
"A rater (in-house)" for the raters hidden from them; nothing that names Lumen or tells which
partner it is (its name, its raters' names or e-mails, its id in a group key or partner_id).
The one rule is qa_app/calibration/labels.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.tokens import create_token
from qa_app.calibration import labels, services
from qa_app.calibration.models import CalibrationSession
from qa_app.db import utcnow
from qa_app.org.models import Partner
from qa_app.org.roles import Role
from tests.conftest import Factory, login
from tests.reviews.factories import MIXED, PERFECT, Card, published_scorecard

STRICT = {"greeting": "no", "empathy": "1", "accuracy": "0", "identity": "no"}
NAMES = {
    "qa": "Ivy Inhouse",
    "nw1": "Nora Northwind",
    "nw2": "Ned Northwind",
    "lu1": "Lara Lumen",
    "lu2": "Leo Lumen",
}
ANSWERS = {"qa": MIXED, "nw1": PERFECT, "nw2": PERFECT, "lu1": STRICT, "lu2": STRICT}
NOTES = {
    "qa": "In-house reads the greeting literally.",
    "nw1": "We count a warm tone as empathy.",
    "lu1": "The identity check was skipped.",
}


@dataclass
class LabelWorld:
    card: Card
    calibration: CalibrationSession
    northwind: Partner
    lumen: Partner
    users: dict[str, User]


@pytest.fixture
def world(db: Session, make: Factory) -> LabelWorld:
    northwind, lumen = make.partner("Northwind BPO"), make.partner("Lumen Outsourcing")
    partner_of = {"qa": None, "nw1": northwind, "nw2": northwind, "lu1": lumen, "lu2": lumen}
    users = {"manager": make.user(Role.MANAGER)}
    for key, partner in partner_of.items():
        role = Role.QA_SPECIALIST if partner is None else Role.PARTNER_QA
        users[key] = make.user(role, partner=partner)
        users[key].name = NAMES[key]
    users["nw_viewer"] = make.user(Role.PARTNER_VIEWER, partner=northwind)
    db.commit()
    agent = make.agent(make.team("Tier 1"), name="Sam")
    conversations = [make.conversation(agent) for _ in range(2)]
    card = published_scorecard(db, name="Labels scorecard")
    manager = users["manager"]
    calibration = services.create_session(
        db,
        services.SessionInput(
            title="Label calibration",
            scorecard_version_id=card.version.id,
            conversation_ids=[conversation.id for conversation in conversations],
            rater_ids=[users[key].id for key in NAMES],
            due_at=utcnow() + timedelta(days=7),
        ),
        by=manager,
    )
    for key, values in ANSWERS.items():
        for conversation in conversations:
            services.save_rating(
                db, calibration, conversation.id, card.answers(values), by=users[key], submit=True
            )
    for conversation in conversations:
        services.save_benchmark(db, calibration, conversation.id, card.answers(MIXED), by=manager)
    services.reveal(db, calibration, by=manager)
    for key, body in NOTES.items():
        services.add_note(db, calibration, body, by=users[key])
    services.add_note(
        db,
        calibration,
        "Identity is checked before anything else.",
        by=manager,
        criterion_id=card.criteria["identity"].id,
        is_decision=True,
    )
    db.commit()
    return LabelWorld(card, calibration, northwind, lumen, users)


def web(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def api(client: FlaskClient, db: Session, user: User, path: str) -> Any:
    _, secret = create_token(db, user, "labels")
    db.commit()
    response = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def web_texts(app: Flask, world: LabelWorld, who: str) -> dict[str, str]:
    client = web(app, world.users[who])
    base = f"/calibration/{world.calibration.id}"
    texts = {}
    for name, url in {
        "session page": base,
        "results page": f"{base}/results",
        "results CSV": f"{base}/results.csv",
        "trends page": "/calibration/trends",
        "sessions list": "/calibration/",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        texts[name] = response.get_data(as_text=True).replace("&#39;", "'")
    return texts


def api_answers(client: FlaskClient, db: Session, world: LabelWorld, who: str) -> dict[str, Any]:
    base = f"/calibration/sessions/{world.calibration.id}"
    user = world.users[who]
    return {
        "API session": api(client, db, user, base).get_json(),
        "API results": api(client, db, user, f"{base}/results?intervals=false").get_json(),
        "API list": api(client, db, user, "/calibration/sessions").get_json(),
    }


def forbidden(world: LabelWorld) -> list[str]:
    """Text from which a Northwind user could tell Lumen, or its raters."""
    lumen_id = world.lumen.id
    strings = ["Lumen", f"partner:{lumen_id}", f"Partner {lumen_id}", f"partner-{lumen_id}"]
    for key in ("lu1", "lu2"):
        strings += [world.users[key].name, world.users[key].email]
    return strings


def _walk(value: Any) -> Any:
    yield value
    if isinstance(value, dict):
        for inner in value.values():
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def assert_no_lumen_in_json(world: LabelWorld, where: str, data: Any) -> None:
    lumen_users = {world.users["lu1"].id, world.users["lu2"].id}
    for node in _walk(data):
        if not isinstance(node, dict):
            continue
        assert node.get("partner_id") != world.lumen.id, (where, node)
        if {"id", "name"} <= set(node) and isinstance(node.get("name"), str):
            assert node["id"] not in lumen_users, (where, node)


@pytest.mark.parametrize("who", ["nw1", "nw_viewer"])
def test_a_northwind_user_never_reads_lumen(
    app: Flask, client: FlaskClient, db: Session, world: LabelWorld, who: str
) -> None:
    texts = web_texts(app, world, who)
    answers = api_answers(client, db, world, who)
    for where, data in answers.items():
        assert_no_lumen_in_json(world, where, data)
        texts[where] = str(data)
    for where, text in texts.items():
        for needle in forbidden(world):
            assert needle not in text, f"{needle!r} in the {where}"
    # What they may read is still there: in-house, their partner, its raters.
    for where in ("results page", "results CSV", "API results"):
        assert "In-house" in texts[where], where
        assert "Northwind BPO" in texts[where], where
        assert NAMES["nw1"] in texts[where], where
        assert NAMES["nw2"] in texts[where], where
    assert "Northwind BPO" in texts["trends page"]
    assert "In-house" in texts["trends page"]


def test_notes_of_hidden_raters_say_in_house_or_another_partner_only(
    app: Flask, client: FlaskClient, db: Session, world: LabelWorld
) -> None:
    page = web_texts(app, world, "nw1")["session page"]
    notes = api_answers(client, db, world, "nw1")["API session"]["notes"]
    authors = {note["body"]: note["author"] for note in notes}
    assert authors[NOTES["lu1"]] == {"id": None, "name": "A rater of another partner"}
    assert authors[NOTES["qa"]] == {"id": None, "name": "A rater (in-house)"}
    assert authors[NOTES["nw1"]]["name"] == NAMES["nw1"]
    for body in NOTES.values():  # the discussion itself is for everyone
        assert body in page
    assert "A rater of another partner" in page
    assert "A rater (in-house)" in page
    assert NAMES["nw2"] in page  # the side-by-side answers show their partner's raters


def test_a_lumen_user_never_reads_northwind_either(
    app: Flask, client: FlaskClient, db: Session, world: LabelWorld
) -> None:
    texts = web_texts(app, world, "lu1")
    texts.update({k: str(v) for k, v in api_answers(client, db, world, "lu1").items()})
    for where, text in texts.items():
        for needle in ("Northwind", NAMES["nw1"], NAMES["nw2"], f"partner:{world.northwind.id}"):
            assert needle not in text, f"{needle!r} in the {where}"
    assert "Lumen Outsourcing" in texts["results page"]


@pytest.mark.parametrize("who", ["manager", "qa"])
def test_in_house_staff_still_read_every_name(
    app: Flask, client: FlaskClient, db: Session, world: LabelWorld, who: str
) -> None:
    texts = web_texts(app, world, who)
    texts.update({k: str(v) for k, v in api_answers(client, db, world, who).items()})
    for where in ("results page", "results CSV", "API results", "API session"):
        for needle in ("Lumen Outsourcing", "Northwind BPO", *NAMES.values()):
            assert needle in texts[where], (needle, where)
    assert "A rater of another partner" not in texts["session page"]
    assert "Lumen Outsourcing" in texts["trends page"]


def test_the_rule_names_every_other_partner_alike(make: Factory) -> None:
    northwind, lumen, acme = make.partner("N"), make.partner("L"), make.partner("A")
    viewer = make.user(Role.PARTNER_VIEWER, partner=northwind)
    staff = make.user(Role.QA_SPECIALIST)
    assert labels.partner_label(viewer, northwind.id, "N") == "N"
    assert labels.partner_label(viewer, None, None) == "In-house"
    assert labels.partner_label(viewer, lumen.id, "L") == "Another partner"
    assert labels.partner_label(viewer, acme.id, None) == "Another partner"
    assert labels.partner_label(staff, lumen.id, "L") == "L"
    assert labels.partner_label(staff, lumen.id, None) == f"Partner {lumen.id}"
    # Group keys and labels, as results and trends carry them.
    assert labels.group_key(viewer, f"partner:{lumen.id}") == "other_partner"
    assert labels.group_key(viewer, f"partner:{acme.id}") == "other_partner"
    assert labels.group_key(viewer, f"partner:{northwind.id}") == f"partner:{northwind.id}"
    assert labels.group_key(staff, f"partner:{lumen.id}") == f"partner:{lumen.id}"
    assert labels.group_label(viewer, f"partner:{lumen.id}", "L") == "Another partner"
    assert labels.group_label(viewer, "in_house", "In-house") == "In-house"
    assert labels.group_label(viewer, "all", "All raters") == "All raters"
