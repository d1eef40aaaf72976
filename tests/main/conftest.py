"""Fixtures of the dashboard tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from tests.conftest import login


@pytest.fixture
def page_of(app: Flask) -> Any:
    """The dashboard as ``user`` sees it, each user with a client of their own."""

    def _page(user: User) -> str:
        client: FlaskClient = app.test_client()
        login(client, user)
        response = client.get("/")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return _page
