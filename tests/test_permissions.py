"""Every route, every role: the expected status, generated from the URL map (tests/routes.py).

A new route without an entry in ROUTE_ACCESS fails test_every_route_has_an_access_entry.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.access import ANONYMOUS, ROLES
from tests.conftest import Factory, login
from tests.routes import LOGIN_REDIRECT, ROUTE_ACCESS, app_rules, build_world, fill


def test_every_route_has_an_access_entry(app: Flask) -> None:
    missing = app_rules(app) - set(ROUTE_ACCESS)
    stale = set(ROUTE_ACCESS) - app_rules(app)
    assert not missing, f"routes without an entry in ROUTE_ACCESS: {sorted(missing)}"
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", sorted(ROUTE_ACCESS))
def test_route_answers_each_role_as_expected(
    client: Any, make: Factory, rule: str, role: str
) -> None:
    world = build_world(make)
    if role != ANONYMOUS:
        login(client, world.users[role])
    access = ROUTE_ACCESS[rule]
    url = fill(rule, world.ids)
    response = client.open(url, method=access.method)
    expected = access.expected(role)
    if rule == "/login" and role != ANONYMOUS:
        expected = LOGIN_REDIRECT[role]
    assert response.status_code == expected, f"{access.method} {url} as {role}"
    if role == ANONYMOUS and expected == 302:
        assert "/login" in response.headers["Location"]
