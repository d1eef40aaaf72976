"""The scorecard builder in the browser: drafts, publishing, frozen versions, scope, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.org.roles import Role
from qa_app.scorecards import services
from qa_app.scorecards.models import Criterion, Scorecard, ScorecardVersion, VersionStatus
from tests.conftest import Factory, login
from tests.scorecards.helpers import build_draft, build_published, spec, specs_of

CRITERION_FORM = {
    "title": "Acknowledges the customer",
    "key": "",
    "guidance": "Names the impact.\nOwns it.",
    "kind": "scale",
    "weight": "2",
    "critical": "no",
    "scale_max": "4",
    "scale_labels": "Dismissive\nGeneric\nAcknowledged\nPersonal",
    "max_points": "1",
}


def version_url(version: ScorecardVersion) -> str:
    return f"/scorecards/{version.scorecard_id}/versions/{version.number}"


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_manager_builds_and_publishes_a_scorecard(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    response = client.post("/scorecards/new", data={"name": "Chat quality", "description": ""})
    scorecard = db.scalars(select(Scorecard)).one()
    draft = scorecard.versions[0]
    assert response.headers["Location"] == version_url(draft)

    response = client.post(f"/scorecards/versions/{draft.id}/sections/new", data={"title": "Tone"})
    assert response.status_code == 302
    db.expire_all()
    section = draft.sections[0]
    response = client.post(f"/scorecards/sections/{section.id}/criteria/new", data=CRITERION_FORM)
    assert response.status_code == 302
    criterion = db.scalars(select(Criterion)).one()
    assert response.headers["Location"] == f"{version_url(draft)}#criterion-{criterion.id}"
    assert (criterion.key, criterion.kind.value, criterion.weight) == (
        "acknowledges_the_customer",
        "scale",
        2.0,
    )
    assert criterion.scale_labels == ["Dismissive", "Generic", "Acknowledged", "Personal"]

    page = text(client.get(f"/scorecards/versions/{draft.id}/publish"))
    assert "Publish version 1" in page
    response = client.post(
        f"/scorecards/versions/{draft.id}/publish", data={"change_note": "First release"}
    )
    assert response.status_code == 302
    db.expire_all()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.change_note == "First release"


def test_bad_criterion_input_rerenders_with_the_error_and_saves_nothing(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.ADMIN))
    section = build_draft(db, layout=[("Tone", [])]).versions[0].sections[0]
    data = {**CRITERION_FORM, "scale_labels": "Bad\nGood"}
    response = client.post(f"/scorecards/sections/{section.id}/criteria/new", data=data)
    assert response.status_code == 200
    page = text(response)
    assert "Give one label per point of the scale (4), or none; got 2." in page
    assert 'id="scale_labels-errors"' in page
    assert "Acknowledges the customer" in page  # the input is kept
    response = client.post(
        f"/scorecards/sections/{section.id}/criteria/new", data={**CRITERION_FORM, "weight": "x"}
    )
    assert response.status_code == 200
    assert "Not a valid float value." in text(response)
    assert db.scalar(select(func.count(Criterion.id))) == 0


def test_manager_edits_moves_and_deletes_in_a_draft(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    version = build_draft(db).versions[0]
    accuracy, communication = version.sections
    clarity, hold = communication.criteria
    edit = {
        **CRITERION_FORM,
        "section_id": accuracy.id,
        "title": "Clarity",
        "key": "clarity",
        "allow_na": "y",
    }
    assert client.post(f"/scorecards/criteria/{clarity.id}/edit", data=edit).status_code == 302
    assert client.post(f"/scorecards/criteria/{clarity.id}/up").status_code == 302
    assert client.post(f"/scorecards/sections/{communication.id}/up").status_code == 302
    assert client.post(f"/scorecards/criteria/{hold.id}/delete").status_code == 302
    assert client.post(f"/scorecards/sections/{communication.id}/delete").status_code == 302
    db.expire_all()
    assert [rule.key for rule in version.rules()] == ["clarity", "accuracy"]
    assert version.sections[0].criteria[0].allow_na


def test_criterion_edit_form_is_filled_from_the_criterion(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    clarity = build_draft(db).versions[0].sections[1].criteria[0]
    page = text(client.get(f"/scorecards/criteria/{clarity.id}/edit"))
    assert 'value="clarity"' in page
    assert "Poor\nFair\nGood\nGreat</textarea>" in page
    assert '<option selected value="scale">' in page


def test_version_page_shows_weights_shares_labels_guidance_and_flags(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    _, version = build_published(db)
    login(client, make.user(Role.QA_SPECIALIST))
    page = text(client.get(version_url(version)))
    assert "60.0%" in page  # accuracy: weight 3 of 5
    assert "20.0%" in page
    assert "Critical: auto-fail" in page
    assert "N/A allowed" in page
    assert "<li>Great</li>" in page
    assert '<p class="mb-1">Plain words.</p><p class="mb-1">No jargon.</p>' in page
    assert "0–3 points" in page
    assert "Add criterion" not in page  # QA specialists read, they do not edit


def test_guidance_and_names_are_escaped(client: FlaskClient, make: Factory, db: Session) -> None:
    layout = [("<b>Tone</b>", [spec("<i>Polite</i>", guidance="<script>alert(1)</script>")])]
    _, version = build_published(db, name="<img src=x onerror=alert(1)>", layout=layout)
    login(client, make.user(Role.AGENT))
    for url in ("/scorecards", f"/scorecards/{version.scorecard_id}", version_url(version)):
        page = text(client.get(url))
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    page = text(client.get(version_url(version)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Tone&lt;/b&gt;" in page
    assert "&lt;i&gt;Polite&lt;/i&gt;" in page


# Frozen versions --------------------------------------------------------------------------------


def test_editing_a_published_version_is_refused_by_the_views(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    scorecard, version = build_published(db)
    before = specs_of(version)
    section = version.sections[0]
    criterion = section.criteria[0]
    for url in (
        f"/scorecards/criteria/{criterion.id}/edit",
        f"/scorecards/sections/{section.id}/edit",
        f"/scorecards/sections/{section.id}/criteria/new",
        f"/scorecards/versions/{version.id}/sections/new",
        f"/scorecards/versions/{version.id}/publish",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == version_url(version)
        response = client.post(url, data={**CRITERION_FORM, "title": "Changed"})
        assert response.status_code == 302, url
    for url in (
        f"/scorecards/criteria/{criterion.id}/delete",
        f"/scorecards/criteria/{criterion.id}/down",
        f"/scorecards/sections/{section.id}/down",
        f"/scorecards/sections/{section.id}/delete",
        f"/scorecards/versions/{version.id}/discard",
    ):
        assert client.post(url).status_code == 302, url
    page = text(client.get(version_url(version), follow_redirects=True))
    assert "is published and frozen" in page
    db.expire_all()
    assert specs_of(version) == before
    assert version.status == VersionStatus.PUBLISHED
    assert len(scorecard.versions) == 1


def test_edit_on_a_published_version_starts_one_new_draft_and_shows_the_diff(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    scorecard, published = build_published(db)
    assert "Edit (start a new draft)" in text(client.get(version_url(published)))
    response = client.post(f"/scorecards/{scorecard.id}/drafts")
    db.expire_all()
    draft = services.draft_of(scorecard)
    assert draft is not None
    assert draft.number == 2
    assert response.headers["Location"] == version_url(draft)
    assert client.post(f"/scorecards/{scorecard.id}/drafts").headers["Location"] == version_url(
        draft
    )
    db.expire_all()
    assert len(scorecard.versions) == 2
    assert "No changes yet." in text(client.get(version_url(draft)))

    clarity = draft.sections[1].criteria[0]
    edit = {**CRITERION_FORM, "section_id": clarity.section_id, "title": "Clarity"}
    edit["key"] = "clarity"
    client.post(f"/scorecards/criteria/{clarity.id}/edit", data=edit)
    page = text(client.get(version_url(draft)))
    assert "Changes from published version 1" in page
    assert "weight 1 → 2" in page
    client.post(f"/scorecards/versions/{draft.id}/publish", data={"change_note": ""})
    db.expire_all()
    assert [v.status for v in scorecard.versions] == [
        VersionStatus.RETIRED,
        VersionStatus.PUBLISHED,
    ]
    assert "Retired: replaced by a newer version" in text(client.get(version_url(published)))


def test_publishing_an_invalid_draft_shows_the_problems(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    draft = build_draft(db, layout=[("Tone", [])]).versions[0]
    page = text(client.get(f"/scorecards/versions/{draft.id}/publish"))
    assert "Add at least one criterion before publishing." in page
    assert "Publish version 1</button>" not in page
    response = client.post(f"/scorecards/versions/{draft.id}/publish", data={})
    assert response.status_code == 200
    assert "Section “Tone” has no criteria" in text(response)
    db.expire_all()
    assert draft.status == VersionStatus.DRAFT


def test_discarding_a_draft_from_the_page(client: FlaskClient, make: Factory, db: Session) -> None:
    login(client, make.user(Role.ADMIN))
    scorecard, _ = build_published(db)
    draft = services.start_new_draft(db, scorecard)
    db.commit()
    assert "Discard draft version 2" in text(client.get(version_url(draft)))
    response = client.post(f"/scorecards/versions/{draft.id}/discard")
    assert response.headers["Location"] == f"/scorecards/{scorecard.id}"
    db.expire_all()
    assert [v.number for v in scorecard.versions] == [1]


# Scorecard details and targets ------------------------------------------------------------------


def test_manager_renames_deactivates_and_targets_a_scorecard(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.MANAGER))
    team = make.team("Tier 1 Chat")
    scorecard, _ = build_published(db)
    response = client.post(
        f"/scorecards/{scorecard.id}/edit", data={"name": "Chat QA", "description": "For chat."}
    )
    assert response.status_code == 302
    page = text(client.get(f"/scorecards/{scorecard.id}/targets"))
    assert "Tier 1 Chat (in-house)" in page
    response = client.post(
        f"/scorecards/{scorecard.id}/targets", data={"team_ids": [team.id], "channels": ["chat"]}
    )
    assert response.status_code == 302
    assert client.post(f"/scorecards/{scorecard.id}/deactivate").status_code == 302
    db.expire_all()
    assert (scorecard.name, scorecard.description, scorecard.is_active) == (
        "Chat QA",
        "For chat.",
        False,
    )
    assert [(t.team_id, t.channel) for t in scorecard.targets] == [(team.id, "chat")]
    assert "Tier 1 Chat · Chat" in text(client.get(f"/scorecards/{scorecard.id}"))


def test_duplicate_scorecard_name_rerenders_with_error(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.ADMIN))
    build_draft(db, name="Chat QA")
    response = client.post("/scorecards/new", data={"name": "chat qa"})
    assert response.status_code == 200
    assert "A scorecard with that name already exists." in text(response)
    assert db.scalar(select(func.count(Scorecard.id))) == 1


def test_unknown_channel_in_targets_is_refused(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    login(client, make.user(Role.ADMIN))
    scorecard = build_draft(db)
    response = client.post(f"/scorecards/{scorecard.id}/targets", data={"channels": ["fax"]})
    assert response.status_code == 200
    assert "&#39;fax&#39; is not a valid choice for this field." in text(response)


# Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.PARTNER_VIEWER, Role.PARTNER_QA])
def test_drafts_stay_in_house(client: FlaskClient, make: Factory, db: Session, role: Role) -> None:
    scorecard, published = build_published(db)
    draft = services.start_new_draft(db, scorecard)
    db.commit()
    login(client, make.user(role))
    assert client.get(version_url(published)).status_code == 200
    assert client.get(version_url(draft)).status_code == 404
    assert ">v2<" not in text(client.get(f"/scorecards/{scorecard.id}"))
    assert ">v2<" not in text(client.get("/scorecards"))
    assert ">v1<" in text(client.get("/scorecards"))


@pytest.mark.parametrize("role", [Role.QA_SPECIALIST, Role.MANAGER])
def test_in_house_staff_read_drafts(
    client: FlaskClient, make: Factory, db: Session, role: Role
) -> None:
    draft = build_draft(db).versions[0]
    login(client, make.user(role))
    page = text(client.get(version_url(draft)))
    assert "A draft: it can change until it is published" in page
    assert ("Add criterion" in page) == (role == Role.MANAGER)


def test_partner_users_see_only_scorecards_that_can_apply_to_them(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    own_partner, other_partner = make.partner("Northwind"), make.partner("Lumen")
    own_team = make.team("Northwind Chat", own_partner)
    other_team = make.team("Lumen Chat", other_partner)
    layout = [("Tone", [spec("Polite")])]
    everywhere, _ = build_published(db, name="Everywhere", layout=layout)
    on_email, _ = build_published(db, name="Email only", layout=layout)
    shared, _ = build_published(db, name="Shared", layout=layout)
    elsewhere, _ = build_published(db, name="Lumen only", layout=layout)
    services.set_targets(db, on_email, team_ids=[], channels=["email"])
    services.set_targets(db, shared, team_ids=[own_team.id, other_team.id], channels=[])
    services.set_targets(db, elsewhere, team_ids=[other_team.id], channels=[])
    db.commit()
    login(client, make.user(Role.PARTNER_VIEWER, partner=own_partner))
    page = text(client.get("/scorecards"))
    for name in ("Everywhere", "Email only", "Shared"):
        assert name in page
    assert "Lumen only" not in page
    assert "Lumen Chat" not in page
    assert "Northwind Chat · every channel" in page
    assert "and 1 more team target" in page
    assert client.get(f"/scorecards/{elsewhere.id}").status_code == 404
    assert client.get(f"/scorecards/{elsewhere.id}/versions/1").status_code == 404
    assert client.get(f"/scorecards/{shared.id}/versions/1").status_code == 200


def test_agents_see_scorecards_of_their_own_team(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    agent = make.agent()
    other_team = make.team()
    mine, _ = build_published(db, name="Mine")
    theirs, _ = build_published(db, name="Theirs")
    services.set_targets(db, mine, team_ids=[agent.team_id], channels=["chat"])
    services.set_targets(db, theirs, team_ids=[other_team.id], channels=["chat"])
    db.commit()
    login(client, make.user(Role.AGENT, agent=agent))
    page = text(client.get("/scorecards"))
    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(f"/scorecards/{theirs.id}").status_code == 404


def test_every_role_finds_scorecards_in_the_navigation(client: FlaskClient, make: Factory) -> None:
    for role in Role:
        client.post("/logout")
        login(client, make.user(role))
        assert 'href="/scorecards"' in text(client.get("/")), role


def test_unknown_objects_answer_404(client: FlaskClient, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    for url in (
        "/scorecards/999",
        "/scorecards/999/versions/1",
        "/scorecards/999/edit",
        "/scorecards/criteria/999/edit",
        "/scorecards/sections/999/edit",
        "/scorecards/versions/999/publish",
    ):
        assert client.get(url).status_code == 404, url
