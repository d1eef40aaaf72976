"""/api/v1/me: who the token belongs to, so clients can check a token."""

from __future__ import annotations

from flask import Response, jsonify

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.serializers import user_profile
from qa_app.org.roles import Role


@bp.get("/me")
@api_roles(Role)
def me() -> Response:
    """The token's user: id, email, name, role, partner and agent."""
    return jsonify(user_profile(api_user()))
