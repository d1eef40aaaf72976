"""/api/v1/scorecards: bearer tokens, the same visibility as the web UI, full versions."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.demo.scorecard import seed_default_scorecard
from qa_app.org.roles import Role
from qa_app.scorecards import services
from tests.conftest import Factory, bearer, login
from tests.scorecards.helpers import build_published, spec


def get(client: FlaskClient, url: str, headers: dict[str, str]) -> Any:
    return client.get(url, headers=headers)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_lists_the_scorecards_it_may_read(
    client: FlaskClient, make: Factory, db: Session, role: Role
) -> None:
    scorecard, _ = build_published(db)
    services.start_new_draft(db, scorecard)
    db.commit()
    response = get(client, "/api/v1/scorecards", bearer(db, make.user(role)))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [item] = response.json["items"]
    assert item["name"] == "Support quality"
    assert item["targets"] == []
    statuses = [(v["number"], v["status"]) for v in item["versions"]]
    if role in {Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST}:
        assert statuses == [(1, "published"), (2, "draft")]
    else:
        assert statuses == [(1, "published")]
    assert item["versions"][0]["url"].endswith(f"/api/v1/scorecards/{scorecard.id}/versions/1")


def test_a_version_comes_with_sections_criteria_guidance_and_weight_shares(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    scorecard = seed_default_scorecard(db)
    db.commit()
    headers = bearer(db, make.user(Role.AGENT))
    response = get(client, f"/api/v1/scorecards/{scorecard.id}/versions/1", headers)
    assert response.status_code == 200
    body = response.json
    assert body["scorecard"] == {"id": scorecard.id, "name": "Customer support quality"}
    assert (body["number"], body["status"]) == (1, "published")
    assert body["published_at"].endswith("+00:00")
    assert [s["title"] for s in body["sections"]] == [
        "Accuracy",
        "Communication",
        "Empathy",
        "Compliance with protocol",
        "Resolution",
    ]
    accuracy = body["sections"][0]["criteria"][0]
    assert accuracy["key"] == "correct_information"
    assert accuracy["kind"] == "yes_no"
    assert accuracy["critical"] == "fail_review"
    assert accuracy["weight"] == 3
    assert accuracy["weight_share"] == 20.0  # 3 of 15
    assert accuracy["scale_max"] is None
    assert "knowledge base" in accuracy["guidance"]
    empathy = body["sections"][2]["criteria"][0]
    assert (empathy["scale_max"], len(empathy["scale_labels"])) == (4, 4)
    shares = [c["weight_share"] for s in body["sections"] for c in s["criteria"]]
    assert sum(shares) == pytest.approx(100, abs=0.05)


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.QA_SPECIALIST, 200), (Role.PARTNER_QA, 404), (Role.AGENT, 404)],
)
def test_drafts_are_served_to_in_house_staff_only(
    client: FlaskClient, make: Factory, db: Session, role: Role, status: int
) -> None:
    scorecard, _ = build_published(db)
    services.start_new_draft(db, scorecard)
    db.commit()
    url = f"/api/v1/scorecards/{scorecard.id}/versions/2"
    response = get(client, url, bearer(db, make.user(role)))
    assert response.status_code == status
    if status == 404:
        assert response.json["error"]["status"] == 404


def test_partner_tokens_see_their_scorecards_and_their_teams_only(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    own, other = make.partner("Northwind"), make.partner("Lumen")
    own_team, other_team = make.team("Northwind Chat", own), make.team("Lumen Chat", other)
    layout = [("Tone", [spec("Polite")])]
    shared, _ = build_published(db, name="Shared", layout=layout)
    lumen_only, _ = build_published(db, name="Lumen only", layout=layout)
    services.set_targets(db, shared, team_ids=[own_team.id, other_team.id], channels=["chat"])
    services.set_targets(db, lumen_only, team_ids=[other_team.id], channels=[])
    db.commit()
    headers = bearer(db, make.user(Role.PARTNER_QA, partner=own))
    [item] = get(client, "/api/v1/scorecards", headers).json["items"]
    assert item["name"] == "Shared"
    assert item["targets"] == [
        {"team": {"id": own_team.id, "name": "Northwind Chat"}, "channel": "chat"}
    ]
    url = f"/api/v1/scorecards/{lumen_only.id}/versions/1"
    assert get(client, url, headers).status_code == 404
    manager = bearer(db, make.user(Role.MANAGER))
    assert len(get(client, "/api/v1/scorecards", manager).json["items"]) == 2


def test_unknown_versions_answer_404(client: FlaskClient, make: Factory, db: Session) -> None:
    scorecard, _ = build_published(db)
    headers = bearer(db, make.user(Role.ADMIN))
    for url in (
        f"/api/v1/scorecards/{scorecard.id}/versions/9",
        "/api/v1/scorecards/999/versions/1",
    ):
        response = get(client, url, headers)
        assert response.status_code == 404
        assert "not yours to see" in response.json["error"]["message"]


def test_the_api_needs_a_bearer_token_not_a_session(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    scorecard, _ = build_published(db)
    login(client, make.user(Role.ADMIN))
    for url in ("/api/v1/scorecards", f"/api/v1/scorecards/{scorecard.id}/versions/1"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = {"Authorization": "Bearer qa_not-a-token"}
    assert get(client, "/api/v1/scorecards", bad).status_code == 401
