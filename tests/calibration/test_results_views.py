"""Calibration results on the web: blind until the reveal, each viewer's raters, CSV, trends."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration.models import SessionStatus
from qa_app.calibration.results import compute_results
from qa_app.calibration.trends import store_group_results
from qa_app.db import utcnow
from qa_app.org.roles import Role
from tests.calibration.results_world import ResultsWorld, results_world
from tests.conftest import Factory, login


@pytest.fixture
def world(make: Factory) -> ResultsWorld:
    return results_world(make, revealed_at=utcnow() - timedelta(days=1))


@pytest.fixture
def as_user(app: Flask) -> object:
    def _client(user: User) -> FlaskClient:
        client = app.test_client()
        login(client, user)
        return client

    return _client


def results_url(world: ResultsWorld, suffix: str = "") -> str:
    return f"/calibration/{world.session.id}/results{suffix}"


def test_results_stay_hidden_until_the_reveal(make: Factory, as_user: object) -> None:
    world = results_world(make, status=SessionStatus.OPEN)
    rater = as_user(world.raters["alex"])
    assert rater.get(results_url(world)).status_code == 404
    assert rater.get(results_url(world, ".csv")).status_code == 404
    viewer = as_user(make.user(Role.PARTNER_VIEWER, partner=world.partners["northwind"]))
    assert viewer.get(results_url(world)).status_code == 404
    manager = as_user(world.manager)
    for suffix in ("", ".csv"):
        response = manager.get(results_url(world, suffix))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/calibration/{world.session.id}")


def test_facilitator_sees_every_figure_after_the_reveal(
    world: ResultsWorld, db: Session, as_user: object
) -> None:
    results = compute_results(db, world.session)
    response = as_user(world.manager).get(results_url(world))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"{results.overall.alpha:.3f}" in page
    low, high = results.overall.ci
    assert f"[{low:.3f}, {high:.3f}]" in page
    assert "Where policy is read differently" in page
    assert page.index("Where policy is read differently") < page.index('data-testid="groups"')
    for name in (
        "Alex Inhouse",
        "Blair Inhouse",
        "=Casey Northwind",
        "Dana Northwind",
        "Eli Lumen",
    ):
        assert name in page
    assert world.raters["eli"].email in page
    assert 'data-testid="dominates"' in page  # identity: "yes" is 12 of 14 answers
    assert "heat-7" in page  # Casey differs from the benchmark on 2 of 3 greetings
    assert "+7.7" in page  # Northwind's difference from in-house


def test_partner_viewer_sees_own_partners_raters_and_group_figures_only(
    world: ResultsWorld, make: Factory, as_user: object
) -> None:
    viewer = as_user(make.user(Role.PARTNER_VIEWER, partner=world.partners["northwind"]))
    page = viewer.get(results_url(world)).get_data(as_text=True)
    assert "Dana Northwind" in page
    assert "=Casey Northwind" in page
    for hidden in ("Eli Lumen", "Alex Inhouse", "Blair Inhouse"):
        assert hidden not in page
    for user in (world.raters["eli"], world.raters["alex"], world.raters["casey"]):
        assert user.email not in page
    lumen = world.partners["lumen"].id
    assert f'data-testid="group-partner:{lumen}"' not in page  # no other partner's figures
    northwind = world.partners["northwind"].id
    assert f'data-testid="group-partner:{northwind}"' in page
    assert 'data-testid="group-in_house"' in page  # the comparison with in-house stays
    assert 'data-testid="visibility-note"' in page


def test_in_house_rater_sees_every_rater(world: ResultsWorld, as_user: object) -> None:
    page = as_user(world.raters["blair"]).get(results_url(world)).get_data(as_text=True)
    for name in ("Blair Inhouse", "Alex Inhouse", "Casey Northwind", "Dana Northwind", "Eli Lumen"):
        assert name in page


def test_stored_text_is_escaped(world: ResultsWorld, db: Session, as_user: object) -> None:
    dana = db.get(User, world.raters["dana"].id)
    dana.name = "Dana <script>alert(1)</script>"
    db.commit()
    page = as_user(world.manager).get(results_url(world)).get_data(as_text=True)
    assert "Dana &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize("who", ["outsider_viewer", "outsider_qa", "agent"])
def test_sessions_out_of_sight_answer_404(
    world: ResultsWorld, make: Factory, as_user: object, who: str
) -> None:
    user = {
        "outsider_viewer": lambda: make.user(Role.PARTNER_VIEWER),
        "outsider_qa": lambda: make.user(Role.QA_SPECIALIST),
        "agent": lambda: make.user(Role.AGENT),
    }[who]()
    client = as_user(user)
    assert client.get(results_url(world)).status_code == 404
    assert client.get(results_url(world, ".csv")).status_code == 404


def test_csv_download_is_an_attachment_in_the_viewers_scope(
    world: ResultsWorld, make: Factory, as_user: object
) -> None:
    response = as_user(world.manager).get(results_url(world, ".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="calibration-{world.session.id}-results.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["table", "criterion", "rater", "group", "metric", "value"]
    assert ["rater", "", "'=Casey Northwind", "Northwind", "bias", "lenient"] in rows
    viewer = as_user(make.user(Role.PARTNER_VIEWER, partner=world.partners["lumen"]))
    text = viewer.get(results_url(world, ".csv")).get_data(as_text=True)
    assert "Eli Lumen" in text
    assert "Casey" not in text
    assert "Northwind" not in text  # neither Northwind's raters nor its group figures


@pytest.mark.parametrize(
    ("role", "status", "sees_lumen"),
    [
        (Role.ADMIN, 200, True),
        (Role.MANAGER, 200, True),
        (Role.QA_SPECIALIST, 200, True),
        (Role.PARTNER_QA, 200, False),
        (Role.PARTNER_VIEWER, 200, False),
        (Role.AGENT, 403, False),
    ],
)
def test_trends_per_role(
    world: ResultsWorld,
    db: Session,
    make: Factory,
    as_user: object,
    role: Role,
    status: int,
    sees_lumen: bool,
) -> None:
    store_group_results(db, world.session, compute_results(db, world.session, n_boot=0))
    db.commit()
    partner = (
        world.partners["northwind"] if role in {Role.PARTNER_QA, Role.PARTNER_VIEWER} else None
    )
    response = as_user(make.user(role, partner=partner)).get("/calibration/trends")
    assert response.status_code == status
    if status != 200:
        return
    page = response.get_data(as_text=True)
    lumen, northwind = world.partners["lumen"].id, world.partners["northwind"].id
    assert 'data-testid="series-all"' in page
    assert 'data-testid="series-in_house"' in page
    assert f'data-testid="series-partner:{northwind}"' in page
    assert (f'data-testid="series-partner:{lumen}"' in page) is sees_lumen
    assert "sparkline-point" in page
    # One month revealed: one row, no dashes for the eleven empty months before it.
    month = f"{world.session.revealed_at:%Y-%m}"
    assert page.count('<th scope="row">20') == 1
    assert f'<th scope="row">{month}</th>' in page
    assert 'data-testid="no-trends"' not in page


def test_trends_without_a_revealed_session_say_so(make: Factory, as_user: object) -> None:
    results_world(make, status=SessionStatus.OPEN)  # blind: not in the trends
    response = as_user(make.user(Role.MANAGER)).get("/calibration/trends")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="no-trends"' in page
    assert "No revealed calibration session in the last 12 months" in page
    assert 'data-testid="trends"' not in page
