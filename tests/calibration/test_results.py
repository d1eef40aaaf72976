"""Calibration results: figures through compute_results equal the statistics on hand-built data."""

from __future__ import annotations

import csv
import io
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.calibration import stats
from qa_app.calibration.access import can_facilitate, visible_sessions_query
from qa_app.calibration.export import HEADER, csv_safe, results_csv
from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationGroupResult,
    CalibrationRating,
    CalibrationSession,
    SessionStatus,
)
from qa_app.calibration.results import (
    SessionResults,
    bias_label,
    compute_results,
    visible_to,
)
from qa_app.calibration.trends import store_group_results, trends
from qa_app.org.roles import Role
from tests.calibration.results_world import (
    ANSWERS,
    SCORES,
    ResultsWorld,
    results_world,
)
from tests.conftest import Factory
from tests.statements import recorded_statements

N_BOOT = 200
ORDER = ["alex", "blair", "casey", "dana", "eli"]  # CalibrationRater.id order
SUBMITTED = {key: 2 if key == "eli" else 3 for key in ORDER}  # Eli's third rating is a draft
M = None


@pytest.fixture
def world(make: Factory) -> ResultsWorld:
    return results_world(make)


@pytest.fixture
def results(world: ResultsWorld, db: Session) -> SessionResults:
    return compute_results(db, world.session, n_boot=N_BOOT)


def answer_matrix(key: str, cell: object = str) -> list[list[object]]:
    """The raters x conversations matrix of one criterion, from the world's answers."""
    return [
        [
            cell(ANSWERS[rater][index][key]) if index < SUBMITTED[rater] else M  # type: ignore[operator]
            for index in range(3)
        ]
        for rater in ORDER
    ]


def score_matrix(raters: list[str]) -> list[list[float | None]]:
    return [[SCORES[r][i] if i < SUBMITTED[r] else M for i in range(3)] for r in raters]


def by_key(results: SessionResults) -> dict[str, object]:
    return {criterion.key: criterion for criterion in results.criteria}


# Agreement ----------------------------------------------------------------------------------


def test_overall_alpha_is_interval_alpha_of_total_scores(results: SessionResults) -> None:
    matrix = score_matrix(ORDER)
    assert results.overall.alpha == pytest.approx(stats.krippendorff_alpha(matrix, "interval"))
    assert results.overall.ci == pytest.approx(
        stats.bootstrap_alpha_ci(matrix, "interval", n_boot=N_BOOT)
    )
    assert results.overall.reading == stats.interpret_alpha(results.overall.alpha)
    assert (results.overall.units, results.overall.ratings) == (3, 14)
    assert results.conversations == 3


@pytest.mark.parametrize(
    ("key", "level", "cell", "categories"),
    [
        ("greeting", "nominal", str, ["yes", "no", "na"]),  # N/A is a category of its own
        ("empathy", "ordinal", int, [1, 2, 3, 4]),
        ("accuracy", "interval", int, [0, 1, 2, 3]),
        ("identity", "nominal", str, ["yes", "no", "na"]),
    ],
)
def test_criterion_agreement_matches_the_statistics_on_the_hand_built_matrix(
    results: SessionResults, key: str, level: str, cell: type, categories: list[object]
) -> None:
    matrix = answer_matrix(key, cell)
    criterion = by_key(results)[key]
    assert criterion.level == level
    assert criterion.agreement.alpha == stats.krippendorff_alpha(matrix, level)
    assert criterion.agreement.ci == stats.bootstrap_alpha_ci(matrix, level, n_boot=N_BOOT)
    assert criterion.percent_agreement == stats.percent_agreement(matrix)
    assert criterion.ac1 == pytest.approx(stats.gwet_ac1(matrix, categories=categories))
    assert (criterion.agreement.units, criterion.agreement.ratings) == (3, 14)


def test_na_on_a_scale_is_missing_not_a_category(world: ResultsWorld, db: Session) -> None:
    """Allowing N/A on empathy and answering it makes the cell missing for alpha."""
    world.card.criteria["empathy"].allow_na = True
    answer = db.scalars(
        select(CalibrationAnswer)
        .join(CalibrationRating)
        .where(
            CalibrationRating.rater_id == world.raters["alex"].id,
            CalibrationRating.conversation_id == world.conversations[0].id,
            CalibrationAnswer.criterion_id == world.card.criteria["empathy"].id,
        )
    ).one()
    answer.value = "na"
    db.commit()
    matrix = answer_matrix("empathy", int)
    matrix[0][0] = M
    criterion = by_key(compute_results(db, world.session, n_boot=0))["empathy"]
    assert criterion.agreement.alpha == stats.krippendorff_alpha(matrix, "ordinal")
    assert criterion.agreement.ratings == 13
    assert criterion.agreement.ci is None  # n_boot=0 skips the intervals
    assert [(v.value, v.count) for v in criterion.distribution] == [
        ("2", 4),
        ("3", 5),
        ("4", 4),
        ("na", 1),
    ]


def test_one_answer_dominating_is_flagged(results: SessionResults) -> None:
    identity = by_key(results)["identity"]
    assert [(v.value, v.label, v.count) for v in identity.distribution] == [
        ("yes", "Yes", 12),
        ("no", "No", 2),
    ]
    assert identity.one_answer_dominates
    assert identity.dominant.share == pytest.approx(12 / 14)
    greeting = by_key(results)["greeting"]
    assert [(v.value, v.count) for v in greeting.distribution] == [
        ("yes", 9),
        ("no", 4),
        ("na", 1),
    ]
    assert not greeting.one_answer_dominates
    empathy = by_key(results)["empathy"]
    assert empathy.distribution[0].label == "2 · Fair"


# Raters and groups against the benchmark ------------------------------------------------------


def test_rater_figures_against_the_benchmark(results: SessionResults) -> None:
    raters = {rater.name: rater for rater in results.raters}
    expected = {
        # name: (submitted, n, MAD, bias, within 5, match rate, label, group)
        "Alex Inhouse": (3, 3, 4 / 3, 0.0, 1.0, 12 / 12, "on target", "In-house"),
        "Blair Inhouse": (3, 3, 11 / 3, 11 / 3, 2 / 3, 11 / 12, "lenient", "In-house"),
        "=Casey Northwind": (3, 3, 25 / 3, 25 / 3, 1 / 3, 9 / 12, "lenient", "Northwind"),
        "Dana Northwind": (3, 3, 32 / 3, 32 / 3, 0.0, 10 / 12, "lenient", "Northwind"),
        "Eli Lumen": (2, 2, 10.0, -10.0, 0.0, 6 / 8, "strict", "Lumen"),
    }
    assert list(raters) == list(expected)
    for name, (submitted, n, mad, bias, within, match, label, group) in expected.items():
        rater = raters[name]
        assert (rater.submitted, rater.n) == (submitted, n), name
        assert rater.mean_absolute_deviation == pytest.approx(mad), name
        assert rater.signed_bias == pytest.approx(bias), name
        assert rater.share_within_tolerance == pytest.approx(within), name
        assert rater.match_rate == pytest.approx(match), name
        assert (rater.bias_label, rater.group_label) == (label, group), name


@pytest.mark.parametrize(
    ("bias", "label"),
    [(2.5, "on target"), (-2.5, "on target"), (2.6, "lenient"), (-2.6, "strict"), (None, None)],
)
def test_bias_within_half_the_tolerance_is_on_target(bias: float | None, label: str) -> None:
    assert bias_label(bias, 5.0) == label


def test_group_figures_and_difference_from_in_house(
    results: SessionResults, world: ResultsWorld
) -> None:
    northwind, lumen = (f"partner:{world.partners[p].id}" for p in ("northwind", "lumen"))
    assert [group.key for group in results.groups] == ["in_house", lumen, northwind]
    groups = {group.key: group for group in results.groups}
    in_house_signed = [2.0, 0.0, -2.0, 5.0, 6.0, 0.0]
    in_house = groups["in_house"]
    assert in_house.raters == 2
    assert in_house.mean_absolute_deviation == pytest.approx(2.5)
    assert in_house.signed_bias == pytest.approx(11 / 6)
    assert in_house.share_within_tolerance == pytest.approx(5 / 6)
    assert in_house.match_rate == pytest.approx(23 / 24)
    assert in_house.difference is None
    assert in_house.agreement.alpha == pytest.approx(
        stats.krippendorff_alpha(score_matrix(["alex", "blair"]), "interval")
    )
    nw = groups[northwind]
    assert (nw.label, nw.partner_id, nw.raters) == ("Northwind", world.partners["northwind"].id, 2)
    assert nw.mean_absolute_deviation == pytest.approx(9.5)
    assert nw.share_within_tolerance == pytest.approx(1 / 6)
    assert nw.match_rate == pytest.approx(19 / 24)
    assert nw.difference == stats.group_difference(
        [10.0, 10.0, 5.0, 8.0, 15.0, 9.0], in_house_signed, n_boot=N_BOOT
    )
    assert nw.difference.difference == pytest.approx(9.5 - 11 / 6)
    assert groups[lumen].difference.difference == pytest.approx(-10 - 11 / 6)
    assert groups[lumen].agreement.alpha is None  # one rater: nothing to pair
    everyone = results.all_raters
    assert (everyone.key, everyone.raters) == ("all", 5)
    assert everyone.mean_absolute_deviation == pytest.approx((4 + 11 + 25 + 32 + 20) / 14)


def test_divergence_lists_criteria_by_largest_gap_to_in_house(results: SessionResults) -> None:
    assert results.divergence_measure == "match rate"
    ranking = [(row.key, row.gap) for row in results.divergence]
    assert [key for key, _ in ranking] == ["identity", "greeting", "empathy", "accuracy"]
    assert [gap for _, gap in ranking] == pytest.approx([1.0, 1 / 3, 1 / 6, 1 / 6])
    greeting = results.divergence[1]
    assert [(f.label, f.value) for f in greeting.figures] == [
        ("In-house", pytest.approx(5 / 6)),
        ("Lumen", pytest.approx(1.0)),
        ("Northwind", pytest.approx(0.5)),
    ]


def test_heatmap_is_the_share_of_answers_differing_from_the_benchmark(
    results: SessionResults,
) -> None:
    heatmap = results.heatmap
    assert heatmap.reference == "benchmark"
    assert [column.name for column in heatmap.columns] == [
        "Alex Inhouse",
        "Blair Inhouse",
        "=Casey Northwind",
        "Dana Northwind",
        "Eli Lumen",
    ]
    rows = {row.key: row for row in heatmap.rows}
    assert [row.key for row in heatmap.rows] == ["greeting", "empathy", "accuracy", "identity"]
    assert [c.share for c in rows["greeting"].cells] == pytest.approx([0, 1 / 3, 2 / 3, 1 / 3, 0])
    assert [c.share for c in rows["identity"].cells] == [0, 0, 0, 0, 1.0]
    assert [c.compared for c in rows["identity"].cells] == [3, 3, 3, 3, 2]
    assert [c.css_class for c in rows["greeting"].cells] == [
        "heat-0",
        "heat-3",
        "heat-7",
        "heat-3",
        "heat-0",
    ]


def test_without_benchmark_raters_have_no_figures_and_the_majority_is_the_reference(
    make: Factory, db: Session
) -> None:
    world = results_world(make, benchmark=False)
    results = compute_results(db, world.session, n_boot=0)
    assert not results.has_benchmark
    for rater in results.raters:
        assert (rater.n, rater.mean_absolute_deviation, rater.match_rate) == (0, None, None)
        assert rater.bias_label is None
    assert results.groups[0].mean_absolute_deviation is None
    assert results.groups[1].difference is None
    # Greeting: the majority is yes, no, yes (Alex's N/A on conversation 3 is outvoted).
    greeting = next(row for row in results.heatmap.rows if row.key == "greeting")
    assert [c.share for c in greeting.cells] == pytest.approx([1 / 3, 0, 1 / 3, 0, 0])
    assert results.heatmap.reference == "majority"
    # Mean answer: in-house 3 yes of 5 (N/A left out), Northwind 5 of 6, Lumen 1 of 2.
    assert results.divergence_measure == "mean answer"
    row = next(row for row in results.divergence if row.key == "greeting")
    assert row.gap == pytest.approx(5 / 6 - 0.6)


def test_drafts_and_the_blind_phase_do_not_change_the_computation(
    world: ResultsWorld, db: Session
) -> None:
    """Eli's draft (score 0) would make Eli's MAD 30 over three conversations."""
    eli = next(
        r for r in compute_results(db, world.session, n_boot=0).raters if r.name == "Eli Lumen"
    )
    assert (eli.submitted, eli.mean_absolute_deviation) == (2, 10.0)


def count_queries(db: Session) -> AbstractContextManager[list[str]]:
    return recorded_statements(db.get_bind())


def test_results_cost_a_fixed_number_of_queries(world: ResultsWorld, db: Session) -> None:
    db.expire_all()
    calibration = db.get(CalibrationSession, world.session.id)
    with count_queries(db) as statements:
        compute_results(db, calibration, n_boot=0)
    assert len(statements) <= 6, statements


# Who sees which rater ---------------------------------------------------------------------------


def test_partner_users_see_their_partners_raters_and_groups_only(
    results: SessionResults, world: ResultsWorld
) -> None:
    northwind = world.partners["northwind"].id
    shown = visible_to(results, northwind, world.raters["casey"].id, can_see_all=False)
    assert [rater.name for rater in shown.raters] == ["=Casey Northwind", "Dana Northwind"]
    assert [column.name for column in shown.heatmap.columns] == [
        "=Casey Northwind",
        "Dana Northwind",
    ]
    greeting = shown.heatmap.rows[0]
    assert [c.share for c in greeting.cells] == pytest.approx([2 / 3, 1 / 3])
    # The comparison with in-house stays; Lumen's group figures do not show, not even as a gap.
    assert [group.key for group in shown.groups] == ["in_house", f"partner:{northwind}"]
    assert shown.all_raters == results.all_raters
    for row in shown.divergence:
        assert {figure.group_key for figure in row.figures} <= {
            "all",
            "in_house",
            f"partner:{northwind}",
        }
        by_group = {figure.group_key: figure.value for figure in row.figures}
        assert row.gap == pytest.approx(
            abs(by_group[f"partner:{northwind}"] - by_group["in_house"])
        )
    gaps = [row.gap for row in shown.divergence]
    assert gaps == sorted(gaps, reverse=True)
    assert shown.divergence


def test_in_house_raters_see_their_own_row_and_facilitators_everything(
    results: SessionResults, world: ResultsWorld
) -> None:
    own = visible_to(results, None, world.raters["blair"].id, can_see_all=False)
    assert [rater.name for rater in own.raters] == ["Blair Inhouse"]
    assert [column.name for column in own.heatmap.columns] == ["Blair Inhouse"]
    assert visible_to(results, None, world.manager.id, can_see_all=True) == results
    assert visible_to(results, None, None, can_see_all=False).raters == ()


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("manager", True),
        ("alex", True),  # a rater
        ("outsider_qa", False),  # a QA specialist who does not rate in it
        ("northwind_viewer", True),  # Northwind has raters
        ("other_viewer", False),  # a partner without raters
        ("agent", False),
    ],
)
def test_visible_sessions_follow_role_and_participation(
    world: ResultsWorld, make: Factory, db: Session, who: str, sees: bool
) -> None:
    users = {
        "manager": world.manager,
        "alex": world.raters["alex"],
        "outsider_qa": make.user(Role.QA_SPECIALIST),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=world.partners["northwind"]),
        "other_viewer": make.user(Role.PARTNER_VIEWER),
        "agent": make.user(Role.AGENT),
    }
    found = db.scalars(visible_sessions_query(users[who])).all()
    assert (world.session in found) is sees
    assert can_facilitate(users[who], world.session) is (who == "manager")


# Stored figures and trends ----------------------------------------------------------------------


def stored(db: Session, session_id: int) -> dict[str, CalibrationGroupResult]:
    rows = db.scalars(
        select(CalibrationGroupResult).where(CalibrationGroupResult.session_id == session_id)
    )
    return {row.group_key: row for row in rows}


def test_store_group_results_upserts_one_row_per_group(
    results: SessionResults, world: ResultsWorld, db: Session
) -> None:
    store_group_results(db, world.session, results)
    store_group_results(db, world.session, results)  # again: updated, not duplicated
    db.commit()
    northwind = world.partners["northwind"].id
    rows = stored(db, world.session.id)
    assert set(rows) == {
        "all",
        "in_house",
        f"partner:{northwind}",
        f"partner:{world.partners['lumen'].id}",
    }
    nw = rows[f"partner:{northwind}"]
    assert (nw.partner_id, nw.raters) == (northwind, 2)
    assert nw.mean_absolute_deviation == pytest.approx(9.5)
    assert nw.signed_bias == pytest.approx(9.5)
    assert nw.match_rate == pytest.approx(19 / 24)
    assert rows["all"].alpha == pytest.approx(results.overall.alpha)
    assert rows["in_house"].partner_id is None
    store_group_results(db, world.session, replace(results, groups=results.groups[:1]))
    db.commit()
    assert set(stored(db, world.session.id)) == {"all", "in_house"}


def other_session(
    db: Session, world: ResultsWorld, moment: datetime, status: SessionStatus, groups: dict
) -> None:
    """A session with only stored figures: ``groups`` maps group key to (alpha, MAD)."""
    calibration = CalibrationSession(
        title=f"Session of {moment:%Y-%m-%d}",
        scorecard_version_id=world.card.version.id,
        facilitator_id=world.manager.id,
        status=status,
        due_at=moment,
        revealed_at=None if status == SessionStatus.OPEN else moment,
    )
    db.add(calibration)
    db.flush()
    for key, (alpha, mad) in groups.items():
        partner_id = int(key.split(":")[1]) if key.startswith("partner:") else None
        db.add(
            CalibrationGroupResult(
                session_id=calibration.id,
                group_key=key,
                partner_id=partner_id,
                alpha=alpha,
                mean_absolute_deviation=mad,
            )
        )
    db.commit()


def test_trends_average_per_month_and_group_over_revealed_sessions(
    results: SessionResults, world: ResultsWorld, db: Session
) -> None:
    store_group_results(db, world.session, results)  # revealed 2026-10-05
    lumen = f"partner:{world.partners['lumen'].id}"
    northwind = f"partner:{world.partners['northwind'].id}"
    october, november = datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    other_session(db, world, october, SessionStatus.CLOSED, {"all": (0.5, 4.0), lumen: (0.3, 7.0)})
    other_session(db, world, november, SessionStatus.REVEALED, {"all": (0.9, 1.0)})
    other_session(db, world, november, SessionStatus.OPEN, {"all": (0.0, 50.0)})  # blind
    other_session(
        db, world, datetime(2026, 6, 1, tzinfo=UTC), SessionStatus.CLOSED, {"all": (0.1, 9.0)}
    )

    trend = trends(db, months=3, today=date(2026, 11, 15))
    # September has no revealed session: left out, not an empty row (June is before the window).
    assert trend.months == ("2026-10", "2026-11")
    assert trend.window == 3
    series = {s.group_key: s for s in trend.series}
    assert [s.group_key for s in trend.series] == ["all", "in_house", lumen, northwind]
    assert [s.label for s in trend.series] == ["All raters", "In-house", "Lumen", "Northwind"]
    oct_all, nov_all = series["all"].points
    assert oct_all.sessions == 2
    assert oct_all.alpha == pytest.approx((results.all_raters.agreement.alpha + 0.5) / 2)
    assert oct_all.mean_absolute_deviation == pytest.approx(
        (results.all_raters.mean_absolute_deviation + 4.0) / 2
    )
    assert (nov_all.sessions, nov_all.alpha, nov_all.mean_absolute_deviation) == (1, 0.9, 1.0)
    assert series[lumen].points[0].mean_absolute_deviation == pytest.approx((10.0 + 7.0) / 2)
    assert series[lumen].points[1] is None  # a shown month without this group's figures

    partner_view = trends(
        db, partner_id=world.partners["northwind"].id, months=3, today=date(2026, 11, 15)
    )
    assert [s.group_key for s in partner_view.series] == ["all", "in_house", northwind]

    # Nothing revealed in the window: no month at all, not twelve empty ones.
    empty = trends(db, months=2, today=date(2027, 6, 1))
    assert (empty.months, empty.series, empty.window) == ((), (), 2)


# CSV ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Casey", "Casey"),
        ("", ""),
    ],
)
def test_csv_safe_neutralises_formula_triggers(text: str, safe: str) -> None:
    assert csv_safe(text) == safe


def test_csv_has_every_table_with_formulas_neutralised(results: SessionResults) -> None:
    text = results_csv(results)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HEADER
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert {row[0] for row in rows[1:]} == {
        "session",
        "criterion",
        "group",
        "divergence",
        "rater",
        "heatmap",
    }
    assert ["rater", "", "'=Casey Northwind", "Northwind", "signed_bias", "8.333333"] in rows
    assert ["rater", "", "Eli Lumen", "Lumen", "signed_bias", "-10.0"] in rows  # a number
    assert ["rater", "", "Eli Lumen", "Lumen", "bias", "strict"] in rows
    assert ["criterion", "identity", "", "", "one_answer_dominates", "yes"] in rows
    assert ["criterion", "greeting", "", "", "count:na", "1"] in rows
    assert ["divergence", "identity", "", "", "gap", "1.0"] in rows
    assert [
        "heatmap",
        "greeting",
        "'=Casey Northwind",
        "Northwind",
        "disagreement",
        "0.666667",
    ] in rows
    overall = repr(round(results.overall.alpha, 6))
    assert ["session", "", "", "", "alpha", overall] in rows
    assert ["session", "", "", "", "benchmark", "yes"] in rows
