"""Scorecard services: draft editing, validation, publishing, new drafts, targets, lookup."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.demo.scorecard import DEFAULT_SCORECARD_NAME, seed_default_scorecard
from qa_app.org.roles import Role
from qa_app.scorecards import services
from qa_app.scorecards.models import (
    Criterion,
    Scorecard,
    ScorecardSection,
    ScorecardTarget,
    ScorecardVersion,
    VersionStatus,
)
from qa_app.scorecards.scoring import Answer, Critical, score_review
from qa_app.scorecards.services import ScorecardError
from qa_app.scorecards.summary import diff_versions, section_shares, weight_shares
from qa_app.scorecards.validation import CriterionSpec, slugify_key, validate_version
from tests.conftest import Factory
from tests.scorecards.helpers import (
    POINTS,
    SCALE,
    YES_NO,
    build_draft,
    build_published,
    spec,
    specs_of,
)

# Creating and editing a draft -------------------------------------------------------------------


def test_new_scorecard_starts_with_an_empty_version_1_draft(db: Session, make: Factory) -> None:
    manager = make.user(Role.MANAGER)
    scorecard = services.create_scorecard(db, name="  Chat   quality ", by=manager)
    db.commit()
    assert scorecard.name == "Chat quality"
    [version] = scorecard.versions
    assert (version.number, version.status, version.created_by_id) == (
        1,
        VersionStatus.DRAFT,
        manager.id,
    )
    assert version.sections == []


def test_scorecard_names_are_unique_ignoring_case(db: Session) -> None:
    services.create_scorecard(db, name="Chat quality")
    with pytest.raises(ScorecardError, match="already exists") as caught:
        services.create_scorecard(db, name="CHAT QUALITY")
    assert caught.value.field == "name"


def test_draft_gets_sections_and_criteria_in_order_with_keys(db: Session) -> None:
    scorecard = build_draft(db)
    version = scorecard.versions[0]
    assert [(s.title, s.position) for s in version.sections] == [
        ("Accuracy", 0),
        ("Communication", 1),
    ]
    assert [(c.key, c.position) for c in version.sections[1].criteria] == [
        ("clarity", 0),
        ("hold", 1),
    ]
    assert [rule.key for rule in version.rules()] == ["accuracy", "clarity", "hold"]
    clarity = version.sections[1].criteria[0]
    assert clarity.scale_labels == ["Poor", "Fair", "Good", "Great"]
    assert clarity.guidance == "Plain words.\nNo jargon."


def test_blank_key_is_made_from_the_title(db: Session) -> None:
    scorecard = build_draft(db, layout=[("Tone", [])])
    section = scorecard.versions[0].sections[0]
    criterion = services.add_criterion(db, section, spec("Tone & empathy (2025)!"))
    assert criterion.key == "tone_empathy_2025"
    assert slugify_key("1st contact") == "c_1st_contact"
    assert slugify_key("Écoute") == "ecoute"


def test_fields_that_do_not_apply_to_the_kind_are_reset(db: Session) -> None:
    scorecard = build_draft(db, layout=[("Tone", [])])
    section = scorecard.versions[0].sections[0]
    criterion = services.add_criterion(
        db, section, spec("Polite", YES_NO, scale_max=7, scale_labels=("a",), max_points=9)
    )
    assert (criterion.scale_max, criterion.scale_labels, criterion.max_points) == (5, [], 1)


@pytest.mark.parametrize(
    ("criterion_spec", "field", "message"),
    [
        (spec(""), "title", "Give the criterion a title."),
        (spec("Tone", key="Bad key"), "key", "lower-case letters, digits and underscores"),
        (spec("Tone", key="9lives"), "key", "starting with a letter"),
        (spec("Tone", weight=0), "weight", "The weight must be more than 0."),
        (spec("Tone", weight=-2), "weight", "The weight must be more than 0."),
        (spec("Tone", weight=float("nan")), "weight", "The weight must be more than 0."),
        (spec("Tone", weight=101), "weight", "The weight must be at most 100."),
        (spec("Tone", SCALE, scale_max=1), "scale_max", "A rating scale has 2 to 10 points."),
        (spec("Tone", SCALE, scale_max=11), "scale_max", "A rating scale has 2 to 10 points."),
        (
            spec("Tone", SCALE, scale_max=5, scale_labels=("Bad", "OK", "Good")),
            "scale_labels",
            "Give one label per point of the scale (5), or none; got 3.",
        ),
        (
            spec("Tone", SCALE, scale_max=2, scale_labels=("Good", "good")),
            "scale_labels",
            "Each point of the scale needs its own label.",
        ),
        (spec("Tone", POINTS, max_points=0), "max_points", "Points criteria give 0 up to"),
        (spec("Tone", POINTS, max_points=101), "max_points", "Points criteria give 0 up to"),
    ],
)
def test_invalid_criteria_are_refused_naming_the_field(
    db: Session, criterion_spec: CriterionSpec, field: str, message: str
) -> None:
    scorecard = build_draft(db, layout=[("Tone", [])])
    section = scorecard.versions[0].sections[0]
    with pytest.raises(ScorecardError, match=re.escape(message)) as caught:
        services.add_criterion(db, section, criterion_spec)
    assert caught.value.field == field
    db.rollback()
    assert db.scalar(select(func.count(Criterion.id))) == 0


def test_keys_are_unique_within_a_version(db: Session) -> None:
    scorecard = build_draft(db)
    section = scorecard.versions[0].sections[0]
    with pytest.raises(ScorecardError, match="already has the key clarity") as caught:
        services.add_criterion(db, section, spec("Clear", key="clarity"))
    assert caught.value.field == "key"


def test_section_titles_are_unique_within_a_version(db: Session) -> None:
    scorecard = build_draft(db)
    with pytest.raises(ScorecardError, match="already has a section with that title"):
        services.add_section(db, scorecard.versions[0], title="accuracy")
    with pytest.raises(ScorecardError, match="already has a section with that title"):
        services.edit_section(db, scorecard.versions[0].sections[1], title="Accuracy")


def test_editing_a_criterion_can_move_it_to_another_section(db: Session) -> None:
    scorecard = build_draft(db)
    version = scorecard.versions[0]
    accuracy, communication = version.sections
    clarity = communication.criteria[0]
    services.edit_criterion(db, clarity, CriterionSpec.of(clarity), section=accuracy)
    db.commit()
    db.expire_all()
    assert [(c.key, c.position) for c in accuracy.criteria] == [("accuracy", 0), ("clarity", 1)]
    assert [(c.key, c.position) for c in communication.criteria] == [("hold", 0)]


def test_moving_sections_and_criteria_reorders_and_stops_at_the_ends(db: Session) -> None:
    scorecard = build_draft(db)
    version = scorecard.versions[0]
    communication = version.sections[1]
    assert services.move_section(db, communication, -1) is True
    assert services.move_section(db, communication, -1) is False
    hold = communication.criteria[1]
    assert services.move_criterion(db, hold, -1) is True
    assert services.move_criterion(db, hold, -1) is False
    db.commit()
    db.expire_all()
    assert [s.title for s in version.sections] == ["Communication", "Accuracy"]
    assert [s.position for s in version.sections] == [0, 1]
    assert [r.key for r in version.rules()] == ["hold", "clarity", "accuracy"]


def test_deleting_criteria_and_sections_renumbers_the_rest(db: Session) -> None:
    scorecard = build_draft(db)
    version = scorecard.versions[0]
    accuracy, communication = version.sections
    with pytest.raises(ScorecardError, match="still has criteria"):
        services.delete_section(db, accuracy)
    services.delete_criterion(db, communication.criteria[0])
    assert [(c.key, c.position) for c in communication.criteria] == [("hold", 0)]
    services.delete_criterion(db, accuracy.criteria[0])
    services.delete_section(db, accuracy)
    db.commit()
    db.expire_all()
    assert [(s.title, s.position) for s in version.sections] == [("Communication", 0)]
    assert db.scalar(select(func.count(ScorecardSection.id))) == 1


# Published versions are frozen ------------------------------------------------------------------


FROZEN_OPERATIONS: dict[str, Callable[[Session, ScorecardVersion], Any]] = {
    "add section": lambda db, v: services.add_section(db, v, title="New"),
    "rename section": lambda db, v: services.edit_section(db, v.sections[0], title="New"),
    "move section": lambda db, v: services.move_section(db, v.sections[1], -1),
    "delete section": lambda db, v: services.delete_section(db, v.sections[0]),
    "add criterion": lambda db, v: services.add_criterion(db, v.sections[0], spec("New")),
    "edit criterion": lambda db, v: services.edit_criterion(
        db, v.sections[0].criteria[0], spec("Changed", key="accuracy")
    ),
    "move criterion": lambda db, v: services.move_criterion(db, v.sections[1].criteria[1], -1),
    "delete criterion": lambda db, v: services.delete_criterion(db, v.sections[0].criteria[0]),
    "publish again": lambda db, v: services.publish_version(db, v),
    "discard": lambda db, v: services.discard_draft(db, v),
}


@pytest.mark.parametrize("operation", sorted(FROZEN_OPERATIONS))
def test_published_and_retired_versions_refuse_every_change(db: Session, operation: str) -> None:
    scorecard, published = build_published(db)
    before = specs_of(published)
    with pytest.raises(ScorecardError, match="is published and frozen: start a new draft"):
        FROZEN_OPERATIONS[operation](db, published)
    db.rollback()
    draft = services.start_new_draft(db, scorecard)
    services.publish_version(db, draft)
    db.commit()
    assert published.status == VersionStatus.RETIRED
    with pytest.raises(ScorecardError, match="is retired and frozen"):
        FROZEN_OPERATIONS[operation](db, published)
    db.rollback()
    db.expire_all()
    assert specs_of(published) == before


def test_publishing_freezes_and_records_who_and_when(db: Session, make: Factory) -> None:
    manager = make.user(Role.MANAGER)
    scorecard = build_draft(db)
    version = services.publish_version(
        db, scorecard.versions[0], by=manager, change_note=" First release. "
    )
    db.commit()
    assert version.status == VersionStatus.PUBLISHED
    assert not version.is_editable
    assert version.published_by_id == manager.id
    assert version.published_at is not None
    assert version.change_note == "First release."
    assert services.published_version(db, scorecard.id) is version


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        ([], "Add at least one criterion before publishing."),
        ([("Empty", [])], "Add at least one criterion before publishing."),
        (
            [("Tone", [spec("Polite")]), ("Empty", [])],
            "Section “Empty” has no criteria: add some or delete it.",
        ),
    ],
)
def test_publishing_an_incomplete_version_is_refused_with_every_problem(
    db: Session, layout: list[Any], problem: str
) -> None:
    scorecard = build_draft(db, layout=layout)
    with pytest.raises(ScorecardError, match="cannot be published yet") as caught:
        services.publish_version(db, scorecard.versions[0])
    assert problem in caught.value.problems
    assert scorecard.versions[0].status == VersionStatus.DRAFT


def test_validation_catches_rows_the_services_would_not_write(db: Session) -> None:
    scorecard = build_draft(db, layout=[("Tone", [spec("Polite", key="polite")])])
    version = scorecard.versions[0]
    # Rows written around the services (an old import, a hand-edited database).
    twin = ScorecardSection(version=version, title="tone", position=1)
    db.add(twin)
    db.add(
        Criterion(
            version=version,
            section=twin,
            key="Bad Key",
            title="Rude",
            kind=SCALE,
            weight=0,
            scale_max=12,
            scale_labels=[],
            position=0,
        )
    )
    db.flush()
    db.expire(version, ["sections"])
    problems = validate_version(version).problems
    assert "Two sections are called “tone”" in problems[0]
    assert any(p == "“Rude” (Bad Key): The weight must be more than 0." for p in problems)
    assert any(p == "“Rude” (Bad Key): A rating scale has 2 to 10 points." for p in problems)
    assert any("“Rude” (Bad Key): A key is up to 60" in p for p in problems)


def test_validation_warns_about_questionable_but_valid_choices(db: Session) -> None:
    layout = [
        ("Tone", [spec("Warmth", SCALE, key="warmth", critical=Critical.REVIEW, allow_na=True)]),
        ("Safety", [spec("Verified", key="verified", critical=Critical.SECTION, allow_na=True)]),
    ]
    validation = validate_version(build_draft(db, layout=layout).versions[0])
    assert validation.ok
    assert validation.warnings == [
        "“Warmth” (warmth) is critical on a rating scale: only a rating of 1 fails it.",
        "“Verified” (verified) fails its section, but it is the only criterion of “Safety”:"
        " failing it changes nothing beyond its own score.",
        "Every criterion allows N/A: a review answered N/A throughout will have no score.",
    ]


# New drafts of a published scorecard -------------------------------------------------------------


def test_new_draft_copies_every_section_and_criterion_with_the_same_keys(
    db: Session, make: Factory
) -> None:
    manager = make.user(Role.MANAGER)
    scorecard, published = build_published(db)
    draft = services.start_new_draft(db, scorecard, by=manager)
    db.commit()
    assert (draft.number, draft.status, draft.created_by_id) == (
        2,
        VersionStatus.DRAFT,
        manager.id,
    )
    assert specs_of(draft) == specs_of(published)
    published_ids = {c.id for c in published.criteria}
    assert not published_ids & {c.id for c in draft.criteria}
    assert services.start_new_draft(db, scorecard) is draft  # one draft at a time
    assert len(scorecard.versions) == 2


def test_editing_the_new_draft_leaves_the_published_version_untouched(db: Session) -> None:
    scorecard, published = build_published(db)
    before = specs_of(published)
    rules_before = published.rules()
    draft = services.start_new_draft(db, scorecard)
    clarity = draft.sections[1].criteria[0]
    services.edit_criterion(db, clarity, spec("Clarity", SCALE, key="clarity", weight=5))
    services.delete_criterion(db, draft.sections[1].criteria[1])
    services.add_criterion(db, draft.sections[0], spec("Policy followed", key="policy"))
    services.edit_section(db, draft.sections[0], title="Accuracy and policy")
    db.commit()
    db.expire_all()
    assert specs_of(published) == before
    assert published.rules() == rules_before
    assert services.published_version(db, scorecard.id) == published

    diff = diff_versions(published, draft)
    assert [c.key for c in diff.added] == ["policy"]
    assert [c.key for c in diff.removed] == ["hold"]
    renamed, change = diff.changed
    assert renamed.key == "accuracy"
    assert renamed.changes == ("section “Accuracy” → “Accuracy and policy”",)
    assert change.key == "clarity"
    assert "weight 1 → 5" in change.changes
    assert "scale 1–4 → 1–5" in change.changes
    assert "scale labels Poor / Fair / Good / Great → none" in change.changes
    assert "guidance reworded" in change.changes
    assert diff.sections_added == ["Accuracy and policy"]
    assert diff.sections_removed == ["Accuracy"]


def test_publishing_a_new_draft_retires_the_previous_version(db: Session) -> None:
    scorecard, first = build_published(db)
    second = services.start_new_draft(db, scorecard)
    services.publish_version(db, second)
    db.commit()
    assert [(v.number, v.status) for v in scorecard.versions] == [
        (1, VersionStatus.RETIRED),
        (2, VersionStatus.PUBLISHED),
    ]
    assert services.published_version(db, scorecard.id) == second
    third = services.start_new_draft(db, scorecard)
    assert third.number == 3
    assert specs_of(third) == specs_of(second)


def test_discarding_a_draft_keeps_the_published_version(db: Session) -> None:
    scorecard, published = build_published(db)
    draft = services.start_new_draft(db, scorecard)
    db.commit()
    services.discard_draft(db, draft)
    db.commit()
    assert [v.number for v in scorecard.versions] == [1]
    assert db.scalar(select(func.count(ScorecardVersion.id))) == 1
    assert db.scalar(select(func.count(Criterion.id))) == 3
    assert services.start_new_draft(db, scorecard).number == 2


def test_the_only_version_cannot_be_discarded(db: Session) -> None:
    scorecard = build_draft(db)
    with pytest.raises(ScorecardError, match="only version"):
        services.discard_draft(db, scorecard.versions[0])


# Weights ----------------------------------------------------------------------------------------


def test_weight_shares_are_percent_of_the_total_weight(db: Session) -> None:
    version = build_draft(db).versions[0]  # weights 3, 1, 1
    shares = weight_shares(version)
    by_key = {c.key: shares[c.id] for c in version.criteria}
    assert by_key == pytest.approx({"accuracy": 60.0, "clarity": 20.0, "hold": 20.0})
    assert list(section_shares(version).values()) == pytest.approx([60.0, 40.0])


# Targets and which scorecard applies ------------------------------------------------------------


def _target_pairs(scorecard: Scorecard) -> set[tuple[int | None, str | None]]:
    return {(t.team_id, t.channel) for t in scorecard.targets}


def test_targets_combine_teams_and_channels(db: Session, make: Factory) -> None:
    team_a, team_b = make.team(), make.team()
    scorecard = build_draft(db)
    services.set_targets(db, scorecard, team_ids=[team_a.id, team_b.id], channels=["chat", "Email"])
    assert _target_pairs(scorecard) == {
        (team_a.id, "chat"),
        (team_a.id, "email"),
        (team_b.id, "chat"),
        (team_b.id, "email"),
    }
    services.set_targets(db, scorecard, team_ids=[team_a.id], channels=[])
    assert _target_pairs(scorecard) == {(team_a.id, None)}
    services.set_targets(db, scorecard, team_ids=[], channels=["phone"])
    assert _target_pairs(scorecard) == {(None, "phone")}
    services.set_targets(db, scorecard, team_ids=[], channels=[])
    db.commit()
    assert db.scalar(select(func.count(ScorecardTarget.id))) == 0


def test_targets_refuse_unknown_teams_and_channels(db: Session) -> None:
    scorecard = build_draft(db)
    with pytest.raises(ScorecardError, match="Unknown channel: fax."):
        services.set_targets(db, scorecard, team_ids=[], channels=["fax"])
    with pytest.raises(ScorecardError, match="Choose existing teams."):
        services.set_targets(db, scorecard, team_ids=[999_999], channels=[])


@pytest.fixture
def targeted(db: Session, make: Factory) -> dict[str, Any]:
    """Four published scorecards, one per kind of target, on team X and chat."""
    team_x, team_y = make.team("Team X"), make.team("Team Y")
    cards = {}
    for name, team_ids, channels in [
        ("untargeted", [], []),
        ("channel", [], ["chat"]),
        ("team", [team_x.id], []),
        ("team+channel", [team_x.id], ["chat"]),
    ]:
        scorecard, _ = build_published(db, name=name)
        services.set_targets(db, scorecard, team_ids=team_ids, channels=channels)
        cards[name] = scorecard
    db.commit()
    return {"x": make.agent(team_x), "y": make.agent(team_y), **cards}


@pytest.mark.parametrize(
    ("agent", "channel", "expected"),
    [
        ("x", "chat", "team+channel"),
        ("x", "email", "team"),
        ("y", "chat", "channel"),
        ("y", "email", "untargeted"),
        (None, "chat", "channel"),
        (None, "phone", "untargeted"),
    ],
)
def test_the_best_matching_scorecard_applies(
    db: Session,
    make: Factory,
    targeted: dict[str, Any],
    agent: str | None,
    channel: str,
    expected: str,
) -> None:
    conversation = make.conversation(targeted[agent] if agent else None, channel=channel)
    version = services.scorecard_for_conversation(db, conversation)
    assert version is not None
    assert version.scorecard.name == expected
    assert version.status == VersionStatus.PUBLISHED


def test_inactive_and_unpublished_scorecards_do_not_apply(
    db: Session, make: Factory, targeted: dict[str, Any]
) -> None:
    conversation = make.conversation(targeted["x"], channel="chat")
    services.set_scorecard_active(db, targeted["team+channel"], False)
    build_draft(db, name="draft only")  # never published
    db.commit()
    version = services.scorecard_for_conversation(db, conversation)
    assert version is not None
    assert version.scorecard.name == "team"


def test_ties_go_to_the_lowest_scorecard_id_and_the_newest_published_version(
    db: Session, make: Factory
) -> None:
    first, _ = build_published(db, name="first")
    build_published(db, name="second")
    draft = services.start_new_draft(db, first)
    services.publish_version(db, draft)
    db.commit()
    version = services.scorecard_for_conversation(db, make.conversation(make.agent()))
    assert version is not None
    assert (version.scorecard.name, version.number) == ("first", 2)


def test_no_scorecard_applies_when_every_target_misses(db: Session, make: Factory) -> None:
    elsewhere = make.team()
    scorecard, _ = build_published(db)
    services.set_targets(db, scorecard, team_ids=[elsewhere.id], channels=["email"])
    db.commit()
    conversation = make.conversation(make.agent(), channel="email")
    assert services.scorecard_for_conversation(db, conversation) is None
    assert services.published_version(db, 999_999) is None


def test_a_published_version_scores_with_the_scoring_rule(db: Session) -> None:
    _, version = build_published(db)
    best = score_review(version.rules(), {"accuracy": "yes", "clarity": 4, "hold": 3})
    assert best.score == 100.0
    failed = score_review(version.rules(), {"accuracy": "no", "clarity": 4, "hold": "na"})
    assert (failed.score, failed.auto_failed) == (0.0, True)


# The demo's default scorecard -------------------------------------------------------------------


def test_default_scorecard_is_seeded_once_and_published(db: Session) -> None:
    scorecard = seed_default_scorecard(db)
    db.commit()
    assert seed_default_scorecard(db) is scorecard
    db.commit()
    assert db.scalar(select(func.count(Scorecard.id))) == 1
    [version] = scorecard.versions
    assert version.status == VersionStatus.PUBLISHED
    assert scorecard.targets == []
    assert validate_version(version).ok
    assert [s.title for s in version.sections] == [
        "Accuracy",
        "Communication",
        "Empathy",
        "Compliance with protocol",
        "Resolution",
    ]
    assert all(len(c.guidance) > 200 for c in version.criteria)
    by_key = {c.key: c for c in version.criteria}
    assert by_key["correct_information"].critical == Critical.REVIEW
    assert by_key["correct_information"].weight == 3
    assert by_key["identity_verified"].critical == Critical.SECTION
    assert by_key["identity_verified"].allow_na
    assert by_key["acknowledges_situation"].scale_max == 4
    assert len(by_key["acknowledges_situation"].scale_labels) == 4
    assert by_key["first_contact_resolution"].weight == 1


def test_default_scorecard_applies_everywhere(db: Session, make: Factory) -> None:
    seed_default_scorecard(db)
    db.commit()
    version = services.scorecard_for_conversation(db, make.conversation(channel="phone"))
    assert version is not None
    assert version.scorecard.name == DEFAULT_SCORECARD_NAME


BEST_ANSWERS: dict[str, Answer] = {
    "correct_information": "yes",
    "clarity": 5,
    "professionalism": 5,
    "acknowledges_situation": 4,
    "identity_verified": "yes",
    "required_disclosures": "yes",
    "resolved_or_escalated": "yes",
    "first_contact_resolution": "yes",
}


@pytest.mark.parametrize(
    ("changes", "score", "auto_failed", "failed_sections"),
    [
        ({}, 100.0, False, ()),
        ({"correct_information": "no"}, 0.0, True, ()),
        ({"identity_verified": "no"}, 80.0, False, ("Compliance with protocol",)),
        ({"identity_verified": "na", "required_disclosures": "na"}, 100.0, False, ()),
        ({"resolved_or_escalated": "no"}, 73.33, False, ("Resolution",)),
        ({"clarity": 3, "acknowledges_situation": 1}, 80.0, False, ()),
    ],
)
def test_default_scorecard_scores_with_the_scoring_rule(
    db: Session,
    changes: dict[str, Answer],
    score: float,
    auto_failed: bool,
    failed_sections: tuple[str, ...],
) -> None:
    version = seed_default_scorecard(db).versions[0]
    result = score_review(version.rules(), {**BEST_ANSWERS, **changes})
    assert (result.score, result.auto_failed, result.failed_sections) == (
        score,
        auto_failed,
        failed_sections,
    )
