"""Agents' scores with confidence intervals, pooled SDs and the sample-size advisor."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from scipy import stats as scipy_stats
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration.stats import mean_ci
from qa_app.org.models import Agent, Team
from qa_app.org.roles import Role
from qa_app.reviews import queries
from qa_app.reviews.models import ReviewStatus
from qa_app.reviews.report_views import months_ago
from qa_app.reviews.stats import (
    ScoreSums,
    expected_half_width,
    pooled_sd,
    reviews_needed,
    summarise,
)
from tests.conftest import Factory, login
from tests.reviews.factories import Card, published_scorecard, scored_review
from tests.statements import recorded_statements

# Hand computation for the scores 70, 80, 90, 100:
#   mean 85; squared deviations 225 + 25 + 25 + 225 = 500; s = sqrt(500 / 3) = 12.9099
#   t(0.975, 3) = 3.182446; half-width = 3.182446 * 12.9099 / sqrt(4) = 20.5426
HAND_SCORES = [70.0, 80.0, 90.0, 100.0]
HAND_SD = 12.909944
HAND_HALF_WIDTH = 20.542603


def sums_of(values: list[float]) -> ScoreSums:
    return ScoreSums(len(values), sum(values), sum(v * v for v in values))


def test_summary_matches_the_hand_computation_and_mean_ci() -> None:
    summary = summarise(sums_of(HAND_SCORES))
    assert summary.n == 4
    assert summary.mean == pytest.approx(85.0)
    assert summary.sd == pytest.approx(HAND_SD, abs=1e-6)
    assert summary.ci_low == pytest.approx(85.0 - HAND_HALF_WIDTH, abs=1e-5)
    assert summary.ci_high == pytest.approx(85.0 + HAND_HALF_WIDTH, abs=1e-5)
    from_values = mean_ci(HAND_SCORES)
    assert (summary.ci_low, summary.ci_high) == pytest.approx(
        (from_values.ci_low, from_values.ci_high)
    )


@pytest.mark.parametrize(
    ("values", "mean", "has_interval"),
    [([], None, False), ([88.0], 88.0, False), ([50.0, 50.0], 50.0, True)],
)
def test_small_groups_give_what_they_can(
    values: list[float], mean: float | None, has_interval: bool
) -> None:
    summary = summarise(sums_of(values))
    assert summary.mean == mean
    assert (summary.ci_low is not None) == has_interval
    if values == [50.0, 50.0]:
        assert summary.sd == 0.0
        assert summary.half_width == 0.0


def test_pooled_sd_uses_within_agent_variation_only() -> None:
    # A: 70..100 (squared deviations 500, df 3); B: 60, 80 (200, df 1); C: one score, no df.
    pooled = pooled_sd([sums_of(HAND_SCORES), sums_of([60.0, 80.0]), sums_of([95.0])])
    assert pooled.sd == pytest.approx(math.sqrt(700 / 4))
    assert (pooled.groups, pooled.n, pooled.df) == (2, 6, 4)
    # Agents far apart but each perfectly consistent: no within-agent noise at all.
    assert pooled_sd([sums_of([10.0, 10.0]), sums_of([90.0, 90.0])]).sd == 0.0
    assert pooled_sd([sums_of([70.0])]).sd is None


def test_reviews_needed_matches_the_hand_computation() -> None:
    # z: (1.96 * 10 / 5)^2 = 15.4 -> 16, but t(15) = 2.131 gives +-5.33 at n = 16;
    # t(16) * 10 / sqrt(17) = 5.14 and t(17) * 10 / sqrt(18) = 4.97: 18 reviews.
    assert reviews_needed(10.0, 5.0) == 18
    assert expected_half_width(10.0, 17) > 5.0 >= expected_half_width(10.0, 18)


def brute_force(sd: float, margin: float, confidence: float) -> int:
    n = 2
    while scipy_stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n) > margin:
        n += 1
    return n


@pytest.mark.parametrize(
    ("sd", "margin", "confidence"),
    [
        (13.2288, 5.0, 0.95),
        (20.0, 2.0, 0.95),
        (15.0, 10.0, 0.99),
        (8.0, 3.0, 0.8),
        (1.0, 1.0, 0.95),
        (25.0, 1.0, 0.9),
        (0.5, 10.0, 0.95),
    ],
)
def test_reviews_needed_is_the_smallest_n_whose_t_interval_is_narrow_enough(
    sd: float, margin: float, confidence: float
) -> None:
    needed = reviews_needed(sd, margin, confidence)
    assert needed == brute_force(sd, margin, confidence)
    z = scipy_stats.norm.ppf(1 - (1 - confidence) / 2)
    assert needed >= math.ceil((z * sd / margin) ** 2)  # the t-correction only adds


def test_reviews_needed_edge_cases() -> None:
    assert reviews_needed(0.0, 5.0) == 2
    assert reviews_needed(10.0, 2.5) > reviews_needed(10.0, 5.0)
    assert reviews_needed(10.0, 5.0, 0.99) > reviews_needed(10.0, 5.0, 0.9)
    for sd, margin, confidence, message in [
        (-1, 5, 0.95, "sd"),
        (10, 0, 0.95, "margin"),
        (10, 5, 1.0, "confidence"),
        (10, 5, 0, "confidence"),
    ]:
        with pytest.raises(ValueError, match=message):
            reviews_needed(sd, margin, confidence)
    with pytest.raises(ValueError, match="million"):
        reviews_needed(100.0, 0.01)


def test_months_ago_clamps_to_the_end_of_shorter_months() -> None:
    assert months_ago(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_ago(date(2026, 1, 15), 6) == date(2025, 7, 15)
    assert months_ago(date(2024, 5, 31), 3) == date(2024, 2, 29)


# In the database -------------------------------------------------------------------------------


@dataclass
class Data:
    card: Card
    ann: Agent
    ben: Agent
    cai: Agent
    north: Team
    south: Team
    reviewer: User


@pytest.fixture
def data(make: Factory, db: Session) -> Data:
    """Ann (North, partner) 70/80/90/100; Ben (South, in-house) 60/80; Cai (South) 95, plus
    reviews that must not count: a draft, a disputed one, an all-N/A one, an old one."""
    partner = make.partner("Northwind")
    north, south = make.team("North", partner), make.team("South")
    ann, ben = make.agent(north, name="Ann"), make.agent(south, name="Ben")
    cai = make.agent(south, name="Cai")
    card = published_scorecard(db)
    reviewer = make.user(Role.QA_SPECIALIST)
    recent = datetime.now(UTC) - timedelta(days=3)
    statuses = [ReviewStatus.SUBMITTED, ReviewStatus.ACKNOWLEDGED, ReviewStatus.RESOLVED]
    for index, score in enumerate(HAND_SCORES):
        scored_review(
            db,
            card,
            make.conversation(ann),
            reviewer,
            score,
            status=statuses[index % 3],
            submitted_at=recent,
        )
    for score in (60.0, 80.0):
        scored_review(db, card, make.conversation(ben), reviewer, score, submitted_at=recent)
    scored_review(db, card, make.conversation(cai), reviewer, 95.0, submitted_at=recent)
    for status, score in [(ReviewStatus.DRAFT, 0.0), (ReviewStatus.DISPUTED, 0.0)]:
        scored_review(db, card, make.conversation(ann), reviewer, score, status=status)
    scored_review(db, card, make.conversation(ben), reviewer, None, submitted_at=recent)
    old = datetime.now(UTC) - timedelta(days=400)
    scored_review(db, card, make.conversation(ben), reviewer, 0.0, submitted_at=old)
    return Data(card, ann, ben, cai, north, south, reviewer)


def count_queries(db: Session) -> AbstractContextManager[list[str]]:
    return recorded_statements(db.get_bind())


def recent_filters() -> queries.ReviewFilters:
    return queries.ReviewFilters(submitted_from=date.today() - timedelta(days=90))


def test_agent_scores_aggregate_in_one_query(db: Session, data: Data, make: Factory) -> None:
    manager = make.user(Role.MANAGER)
    with count_queries(db) as statements:
        scores = queries.agent_scores(db, recent_filters(), user=manager)
    assert len(statements) == 1
    assert "GROUP BY" in statements[0].upper()
    by_name = {score.agent_name: score.summary for score in scores}
    assert set(by_name) == {"Ann", "Ben", "Cai"}
    ann = by_name["Ann"]
    assert (ann.n, ann.mean) == (4, pytest.approx(85.0))
    assert ann.sd == pytest.approx(HAND_SD, abs=1e-6)
    assert ann.ci_high == pytest.approx(85.0 + HAND_HALF_WIDTH, abs=1e-5)
    assert (by_name["Ben"].n, by_name["Ben"].mean) == (2, pytest.approx(70.0))
    assert by_name["Cai"].ci_low is None


def test_agent_scores_respect_the_partner_scope(db: Session, data: Data, make: Factory) -> None:
    viewer = make.user(Role.PARTNER_VIEWER, partner=db.get(Team, data.north.id).partner)
    names = [score.agent_name for score in queries.agent_scores(db, recent_filters(), user=viewer)]
    assert names == ["Ann"]
    ben_user = make.user(Role.AGENT, agent=data.ben)
    [own] = queries.agent_scores(db, recent_filters(), user=ben_user)
    assert own.agent_name == "Ben"


def test_the_date_window_leaves_old_reviews_out(db: Session, data: Data, make: Factory) -> None:
    manager = make.user(Role.MANAGER)
    everything = queries.agent_scores(db, queries.ReviewFilters(), user=manager)
    ben = next(score for score in everything if score.agent_name == "Ben")
    assert (ben.summary.n, ben.summary.mean) == (3, pytest.approx(140 / 3))


def test_score_variance_pools_overall_and_per_team(db: Session, data: Data, make: Factory) -> None:
    manager = make.user(Role.MANAGER)
    overall, *teams = queries.score_variance(db, recent_filters(), user=manager)
    assert overall.pooled.sd == pytest.approx(math.sqrt(700 / 4))
    assert (overall.agents, overall.reviews) == (3, 7)
    by_name = {team.team_name: team for team in teams}
    assert by_name["North"].pooled.sd == pytest.approx(HAND_SD, abs=1e-6)
    assert by_name["South"].pooled.sd == pytest.approx(math.sqrt(200))
    assert (by_name["South"].agents, by_name["South"].reviews) == (2, 3)


def test_advisor_page_shows_the_figures(
    client: FlaskClient, db: Session, data: Data, make: Factory
) -> None:
    login(client, make.user(Role.MANAGER))
    response = client.get("/reviews/advisor?margin=5&confidence=0.95&months=3")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    needed = reviews_needed(math.sqrt(700 / 4), 5.0, 0.95)
    assert needed == brute_force(math.sqrt(700 / 4), 5.0, 0.95) == 30
    assert f'data-testid="needed">{needed}<' in html
    assert 'data-testid="pooled-sd">13.23<' in html
    # South: sd 14.14 -> n; North: sd 12.91 -> n
    assert f"<strong>{reviews_needed(math.sqrt(200), 5.0)}</strong>" in html
    assert f"<strong>{reviews_needed(HAND_SD, 5.0)}</strong>" in html


def test_advisor_refuses_a_bad_margin(client: FlaskClient, make: Factory) -> None:
    login(client, make.user(Role.ADMIN))
    assert client.get("/reviews/advisor?margin=0").status_code == 400
    assert client.get("/reviews/advisor").status_code == 200  # defaults: +-5 at 95 %


def test_agent_page_shows_mean_ci_and_n(
    client: FlaskClient, db: Session, data: Data, make: Factory
) -> None:
    login(client, make.user(Role.AGENT, agent=data.ann))
    html = client.get(f"/reviews/agents/{data.ann.id}").get_data(as_text=True)
    assert 'data-testid="mean">85.0<' in html
    low, high = 85.0 - HAND_HALF_WIDTH, 85.0 + HAND_HALF_WIDTH
    assert f"{low:.1f} – {high:.1f}" in html
    assert 'data-testid="n">4<' in html
    assert client.get(f"/reviews/agents/{data.ben.id}").status_code == 404
