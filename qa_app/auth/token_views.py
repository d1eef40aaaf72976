"""Personal API tokens: each user creates and revokes their own; admins can revoke anyone's."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from qa_app.auth.forms import CreateTokenForm
from qa_app.auth.models import ApiToken, User
from qa_app.auth.tokens import create_token, revoke_token
from qa_app.db import get_session
from qa_app.forms import EmptyForm
from qa_app.org.access import role_required
from qa_app.org.roles import Role

bp = Blueprint("tokens", __name__)


def _tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id)
    stmt = stmt.order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    return list(session.scalars(stmt))


def _token_of(session: Session, user_id: int, token_id: int) -> ApiToken:
    """The user's token, or 404: another user's token id is as good as unknown."""
    stmt = select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    return session.scalars(stmt).one_or_none() or abort(404)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Response:
    """List one's API tokens and create one; a new token's secret is shown on this answer only."""
    session = get_session()
    form = CreateTokenForm()
    created = secret = None
    if form.validate_on_submit():
        created, secret = create_token(session, current_user, form.name.data or "", days=form.days)
        session.commit()
        form = CreateTokenForm(formdata=None)
    page = render_template(
        "auth/tokens.html",
        owner=current_user,
        tokens=_tokens_of(session, current_user.id),
        form=form,
        action_form=EmptyForm(),
        created=created,
        secret=secret,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the secret must not outlive this page
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of one's own API tokens."""
    session = get_session()
    token = _token_of(session, current_user.id, token_id)
    if EmptyForm().validate_on_submit():
        revoke_token(session, token)
        session.commit()
        flash(
            f"Token “{token.name}” revoked; programs using it can no longer call the API.",
            "success",
        )
    return redirect(url_for("tokens.tokens"))


@bp.get("/admin/users/<int:user_id>/tokens")
@role_required(Role.ADMIN)
def user_tokens(user_id: int) -> str:
    """List a user's API tokens, for an admin to revoke."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    return render_template(
        "auth/tokens.html",
        owner=user,
        tokens=_tokens_of(session, user.id),
        form=None,
        action_form=EmptyForm(),
        created=None,
        secret=None,
    )


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_user_token(user_id: int, token_id: int) -> Response:
    """Revoke another user's API token."""
    session = get_session()
    token = _token_of(session, user_id, token_id)
    if EmptyForm().validate_on_submit():
        revoke_token(session, token)
        session.commit()
        flash(f"Token “{token.name}” of {token.user.email} revoked.", "success")
    return redirect(url_for("tokens.user_tokens", user_id=user_id))
