"""The partner scope: every query for partner-owned data passes through here.

A model that holds partner-owned rows implements two class methods returning SQL conditions:
``in_partner(partner_id)`` and ``of_agent(agent_id)``. In-house staff see every row, partner
users only their partner's rows, agents only their own; anything else sees nothing (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, TypeVarTuple

from flask import abort
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from qa_app.org.roles import IN_HOUSE_STAFF, PARTNER_ROLES, Role


class PartnerOwned(Protocol):
    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]: ...

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]: ...


class ScopedUser(Protocol):
    role: Role
    partner_id: int | None
    agent_id: int | None
    is_authenticated: bool


T = TypeVar("T")
Ts = TypeVarTuple("Ts")  # the column types of a SELECT


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, one partner, one agent, or nothing."""

    everything: bool = False
    partner_id: int | None = None
    agent_id: int | None = None

    def condition(self, model: type[PartnerOwned]) -> ColumnElement[bool] | None:
        """The WHERE condition for ``model``; None means no restriction."""
        if self.everything:
            return None
        if self.partner_id is not None:
            return model.in_partner(self.partner_id)
        if self.agent_id is not None:
            return model.of_agent(self.agent_id)
        return false()


NOTHING = Scope()


def scope_of(user: Any) -> Scope:
    """Derive the scope from the user; an unknown shape of user gets nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    role = getattr(user, "role", None)
    if role in IN_HOUSE_STAFF:
        return Scope(everything=True)
    if role in PARTNER_ROLES and user.partner_id is not None:
        return Scope(partner_id=user.partner_id)
    if role == Role.AGENT and user.agent_id is not None:
        return Scope(agent_id=user.agent_id)
    return NOTHING


def scoped(stmt: Select[*Ts], model: type[PartnerOwned], user: Any) -> Select[*Ts]:
    """Restrict a SELECT over ``model`` to the rows ``user`` may see."""
    condition = scope_of(user).condition(model)
    return stmt if condition is None else stmt.where(condition)


def get_scoped(session: Session, model: type[T], object_id: int, user: Any) -> T | None:
    """Load one row by primary key if it exists and is in the user's scope."""
    pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    stmt = scoped(select(model).where(pk == object_id), model, user)  # type: ignore[arg-type]
    result: T | None = session.scalars(stmt).one_or_none()
    return result


def get_scoped_or_404(session: Session, model: type[T], object_id: int, user: Any) -> T:
    """Like get_scoped, but out-of-scope answers 404 so existence does not leak."""
    found = get_scoped(session, model, object_id, user)
    if found is None:
        abort(404)
    return found
