"""/api/v1/me: who the token belongs to, so clients can check a token."""

from __future__ import annotations

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.models import AgentRef, Answer, PartnerRef, agent_ref, partner_ref
from qa_app.auth.models import User
from qa_app.org.roles import Role


class Me(Answer):
    """The token's user; agent is set for agent accounts."""

    id: int
    email: str
    name: str
    role: Role
    partner: PartnerRef | None
    agent: AgentRef | None


def me_of(user: User) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        partner=partner_ref(user.partner),
        agent=agent_ref(user.agent),
    )


@bp.get("/me")
@endpoint(Role, operation_id="getMe", tag="account", answers={200: Me})
def me() -> Me:
    """The token's user."""
    return me_of(api_user())
