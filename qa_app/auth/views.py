"""Log in, log out, and change one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from qa_app.auth import services
from qa_app.auth.forms import ChangePasswordForm, LoginForm
from qa_app.auth.passwords import verify_password
from qa_app.db import get_session
from qa_app.forms import EmptyForm

bp = Blueprint("auth", __name__)
LOGIN_REFUSED = (
    "Invalid email or password. After {LOGIN_MAX_FAILURES} failed attempts an account is locked "
    "for a while: if you are sure of your password, try again later."
)


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site (and has no control characters, which a
    Location header cannot carry)."""
    if (
        target
        and target.isprintable()
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.dashboard")


def _cheap_hash() -> bool:
    return bool(current_app.config["QA_PASSWORD_HASH"] == "cheap")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            user = services.authenticate(
                session,
                form.email.data or "",
                form.password.data or "",
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=current_app.config["LOGIN_LOCKOUT"],
                cheap_hash=_cheap_hash(),
            )
        except services.LoginRefused:
            session.commit()  # keep the failure count
            # One answer whether the account is unknown, locked or the password wrong, so that
            # it tells nobody which accounts exist.
            form.form_errors.append(LOGIN_REFUSED.format(**current_app.config))
            return render_template("auth/login.html", form=form), 401
        session.commit()
        login_user(user, remember=bool(form.remember.data))
        flash(f"Welcome, {user.name}.", "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Log out."""
    if EmptyForm().validate_on_submit():
        session = get_session()
        services.end_sessions(session, current_user)
        session.commit()
        logout_user()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    """Change one's own password; other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        if not verify_password(current_user.password_hash, form.current_password.data or ""):
            form.current_password.errors = ["That is not your current password."]
        else:
            try:
                services.set_password(
                    session, current_user, form.new_password.data or "", cheap_hash=_cheap_hash()
                )
            except services.AccountError as error:
                form.new_password.errors = [str(error)]
            else:
                session.commit()
                login_user(current_user._get_current_object())  # new token in this session
                flash(
                    "Your password has been changed. Your other sessions have ended and your "
                    "API tokens are revoked: create new ones for your programs.",
                    "success",
                )
                return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)
