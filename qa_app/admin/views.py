"""Admins manage user accounts (create, edit, deactivate, reset passwords) and the settings."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from qa_app.admin.forms import (
    NONE,
    NewUserForm,
    OrganisationSettingsForm,
    UserFilterForm,
    UserForm,
)
from qa_app.auth import services
from qa_app.auth.models import User
from qa_app.db import get_session
from qa_app.forms import EmptyForm, choices
from qa_app.org.access import role_required
from qa_app.org.models import Agent, Partner
from qa_app.org.roles import Role
from qa_app.org.services import organisation_settings
from qa_app.pagination import page_args, paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _cheap_hash() -> bool:
    return bool(current_app.config["QA_PASSWORD_HASH"] == "cheap")


def _fill_choices(form: UserForm) -> None:
    session = get_session()
    partners = session.scalars(select(Partner).order_by(Partner.name))
    agents = session.scalars(select(Agent).order_by(Agent.name))
    form.partner_id.choices = choices([(NONE, "—"), *((p.id, p.name) for p in partners)])
    form.agent_id.choices = choices(
        [(NONE, "—"), *((a.id, f"{a.name} ({a.external_id or a.id})") for a in agents)]
    )


@bp.get("/users")
@role_required(Role.ADMIN)
def users() -> str:
    """List user accounts with filters."""
    session = get_session()
    filters = UserFilterForm(formdata=request.args)
    stmt = select(User).options(joinedload(User.partner), joinedload(User.agent))
    if filters.q.data:
        pattern = f"%{filters.q.data.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(pattern), func.lower(User.name).like(pattern)))
    if filters.role.data in set(Role):
        stmt = stmt.where(User.role == Role(filters.role.data))
    if filters.status.data:
        stmt = stmt.where(User.is_active.is_(filters.status.data == "active"))
    page = paginate(session, stmt.order_by(User.is_active.desc(), User.email), *page_args())
    return render_template("admin/users.html", page=page, filters=filters, action_form=EmptyForm())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user() -> str | Response:
    """Create a user account."""
    form = NewUserForm()
    _fill_choices(form)
    if form.validate_on_submit():
        session = get_session()
        try:
            user = services.create_user(
                session,
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                role=Role(form.role.data),
                partner_id=form.partner_id.data or None,
                agent_id=form.agent_id.data or None,
                cheap_hash=_cheap_hash(),
            )
        except services.AccountError as error:
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int) -> str | Response:
    """Edit a user's details, role and scope."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    _fill_choices(form)
    if not form.is_submitted():
        form.partner_id.data = user.partner_id or NONE
        form.agent_id.data = user.agent_id or NONE
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.ADMIN:
            form.role.errors = ["You cannot take the admin role from yourself."]
        else:
            try:
                services.update_user(
                    session,
                    user,
                    email=form.email.data or "",
                    name=form.name.data or "",
                    role=Role(form.role.data),
                    partner_id=form.partner_id.data or None,
                    agent_id=form.agent_id.data or None,
                )
            except services.AccountError as error:
                form.form_errors.append(str(error))
            else:
                session.commit()
                flash(f"User {user.email} saved.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=user, action_form=EmptyForm())


@bp.post("/users/<int:user_id>/deactivate", defaults={"active": False})
@bp.post("/users/<int:user_id>/reactivate", defaults={"active": True})
@role_required(Role.ADMIN)
def set_user_active(user_id: int, active: bool) -> Response:
    """Deactivate or reactivate a user; deactivation ends their sessions."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    if EmptyForm().validate_on_submit():
        if user.id == current_user.id and not active:
            flash("You cannot deactivate your own account.", "danger")
        else:
            services.set_active(session, user, active)
            session.commit()
            flash(f"User {user.email} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-password")
@role_required(Role.ADMIN)
def reset_password(user_id: int) -> str | Response:
    """Give the user a new random password, shown once, and end their sessions."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.edit_user", user_id=user.id))
    temporary = secrets.token_urlsafe(12)
    services.set_password(session, user, temporary, cheap_hash=_cheap_hash())
    session.commit()
    return render_template("admin/password_reset.html", user=user, temporary=temporary)


@bp.route("/settings", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings() -> str | Response:
    """Edit the organisation's name and whether imports redact personal data."""
    session = get_session()
    org_settings = organisation_settings(
        session, default_redact=bool(current_app.config["QA_REDACT_PII"])
    )
    form = OrganisationSettingsForm(obj=org_settings)
    if form.validate_on_submit():
        turning_off = org_settings.redact_pii and not form.redact_pii.data
        if turning_off and not form.confirm_unredacted.data:
            form.confirm_unredacted.errors = [
                "Confirm that personal data will be stored unredacted, or keep redaction on."
            ]
        else:
            org_settings.name = (form.name.data or "").strip()
            org_settings.redact_pii = bool(form.redact_pii.data)
            session.commit()
            if turning_off:
                flash("Settings saved. Imports no longer redact personal data.", "warning")
            else:
                flash("Settings saved.", "success")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, redact_on=org_settings.redact_pii)
