"""The scorecard builder: scorecards, versions, the draft editor, publishing and targets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from qa_app.conversations.records import CHANNELS
from qa_app.db import get_session
from qa_app.forms import EmptyForm, choices
from qa_app.org.access import role_required
from qa_app.org.models import Team
from qa_app.scorecards import services
from qa_app.scorecards.access import (
    SCORECARD_EDITORS,
    SCORECARD_VIEWERS,
    may_see_drafts,
    may_see_version,
    scoped_scorecards,
    visible_team_ids,
)
from qa_app.scorecards.forms import (
    CriterionForm,
    PublishForm,
    ScorecardForm,
    SectionForm,
    TargetsForm,
)
from qa_app.scorecards.models import (
    Criterion,
    Scorecard,
    ScorecardSection,
    ScorecardVersion,
)
from qa_app.scorecards.services import ScorecardError
from qa_app.scorecards.summary import diff_versions, section_shares, weight_shares
from qa_app.scorecards.validation import (
    CRITICAL_LABELS,
    KIND_LABELS,
    CriterionSpec,
    validate_version,
)

bp = Blueprint("scorecards", __name__, url_prefix="/scorecards")


# Loading and shared pieces ----------------------------------------------------------------------


def _scorecard_or_404(scorecard_id: int) -> Scorecard:
    stmt = scoped_scorecards(select(Scorecard).where(Scorecard.id == scorecard_id), current_user)
    return get_session().scalars(stmt).one_or_none() or abort(404)


def _get_or_404(model: type[Any], object_id: int | None) -> Any:
    # Only editors reach these by id; they see every scorecard.
    found = get_session().get(model, object_id) if object_id is not None else None
    return found or abort(404)


def _version_url(version: ScorecardVersion, anchor: str | None = None) -> str:
    return url_for(
        "scorecards.version",
        scorecard_id=version.scorecard_id,
        number=version.number,
        _anchor=anchor,
    )


def _frozen(version: ScorecardVersion) -> Response | None:
    """A redirect with an explanation when ``version`` can no longer be edited."""
    if version.is_editable:
        return None
    flash(
        f"Version {version.number} is {version.status.value} and frozen: use “Edit” to start a"
        " new draft.",
        "warning",
    )
    return redirect(_version_url(version))


def _target_labels(scorecards: list[Scorecard]) -> dict[int, tuple[list[str], int]]:
    """Per scorecard id: its targets in words, and how many name teams the user may not see."""
    session = get_session()
    team_ids = {t.team_id for sc in scorecards for t in sc.targets if t.team_id is not None}
    names = {
        row.id: row.name
        for row in session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
    }
    visible = visible_team_ids(current_user)
    allowed = set(team_ids) if visible is None else set(session.scalars(visible))
    labels: dict[int, tuple[list[str], int]] = {}
    for scorecard in scorecards:
        shown, hidden = [], 0
        for target in sorted(
            scorecard.targets, key=lambda t: (names.get(t.team_id or 0, ""), t.channel or "")
        ):
            if target.team_id is not None and target.team_id not in allowed:
                hidden += 1
                continue
            team = names[target.team_id] if target.team_id is not None else "Every team"
            channel = target.channel.capitalize() if target.channel else "every channel"
            shown.append(f"{team} · {channel}")
        labels[scorecard.id] = (shown, hidden)
    return labels


def _published(scorecard: Scorecard) -> ScorecardVersion | None:
    return services.published_version(get_session(), scorecard.id)


def _share(weight: float | None, other_weight: float) -> float | None:
    """Percent of the total weight a criterion of ``weight`` would have."""
    if weight is None or not weight > 0:
        return None
    return 100.0 * weight / (weight + other_weight)


# Scorecards -------------------------------------------------------------------------------------


@bp.get("")
@role_required(SCORECARD_VIEWERS)
def scorecards() -> str:
    """List the scorecards the user may see, with their versions."""
    stmt = scoped_scorecards(
        select(Scorecard)
        .options(selectinload(Scorecard.versions), selectinload(Scorecard.targets))
        .order_by(Scorecard.is_active.desc(), Scorecard.name),
        current_user,
    )
    rows = get_session().scalars(stmt).all()
    return render_template(
        "scorecards/list.html",
        scorecards=rows,
        targets=_target_labels(list(rows)),
        drafts_visible=may_see_drafts(current_user),
    )


@bp.route("/new", methods=["GET", "POST"], defaults={"scorecard_id": None})
@bp.route("/<int:scorecard_id>/edit", methods=["GET", "POST"])
@role_required(SCORECARD_EDITORS)
def edit_scorecard(scorecard_id: int | None) -> str | Response:
    """Create a scorecard (with an empty draft), or rename and describe one."""
    session = get_session()
    scorecard = _get_or_404(Scorecard, scorecard_id) if scorecard_id else None
    form = ScorecardForm(obj=scorecard)
    if form.validate_on_submit():
        name, description = form.name.data or "", form.description.data or ""
        try:
            if scorecard is None:
                saved = services.create_scorecard(
                    session, name=name, description=description, by=current_user
                )
            else:
                saved = services.update_scorecard(
                    session, scorecard, name=name, description=description
                )
        except ScorecardError as error:
            form.name.errors = [str(error)]
        else:
            session.commit()
            flash(f"Scorecard {saved.name} saved.", "success")
            if scorecard is None:
                return redirect(_version_url(saved.versions[0]))
            return redirect(url_for("scorecards.scorecard", scorecard_id=saved.id))
    return render_template("scorecards/edit_scorecard.html", form=form, scorecard=scorecard)


@bp.get("/<int:scorecard_id>")
@role_required(SCORECARD_VIEWERS)
def scorecard(scorecard_id: int) -> str:
    """Show a scorecard: its versions, where it applies, and what an editor can do."""
    scorecard = _scorecard_or_404(scorecard_id)
    versions = [v for v in reversed(scorecard.versions) if may_see_version(current_user, v)]
    return render_template(
        "scorecards/scorecard.html",
        scorecard=scorecard,
        versions=versions,
        targets=_target_labels([scorecard])[scorecard.id],
        draft=services.draft_of(scorecard),
        action_form=EmptyForm(),
    )


@bp.post("/<int:scorecard_id>/deactivate", defaults={"active": False})
@bp.post("/<int:scorecard_id>/reactivate", defaults={"active": True})
@role_required(SCORECARD_EDITORS)
def set_scorecard_active(scorecard_id: int, active: bool) -> Response:
    """Deactivate a scorecard (no new reviews use it) or reactivate it."""
    session = get_session()
    scorecard = _get_or_404(Scorecard, scorecard_id)
    if EmptyForm().validate_on_submit():
        services.set_scorecard_active(session, scorecard, active)
        session.commit()
        flash(
            f"Scorecard {scorecard.name} {'reactivated' if active else 'deactivated'}.", "success"
        )
    return redirect(url_for("scorecards.scorecard", scorecard_id=scorecard.id))


@bp.route("/<int:scorecard_id>/targets", methods=["GET", "POST"])
@role_required(SCORECARD_EDITORS)
def targets(scorecard_id: int) -> str | Response:
    """Choose the teams and channels a scorecard applies to."""
    session = get_session()
    scorecard = _get_or_404(Scorecard, scorecard_id)
    targeted = {target.team_id for target in scorecard.targets if target.team_id is not None}
    teams = session.scalars(
        select(Team)
        .options(selectinload(Team.partner))
        .where(Team.is_active | Team.id.in_(targeted))
        .order_by(Team.partner_id.is_not(None), Team.name)
    ).all()
    form = TargetsForm()
    form.team_ids.choices = choices(
        (team.id, f"{team.name} ({team.partner.name if team.partner else 'in-house'})")
        for team in teams
    )
    form.channels.choices = choices((channel, channel.capitalize()) for channel in CHANNELS)
    if not form.is_submitted():
        form.team_ids.data = sorted(targeted)
        form.channels.data = sorted({t.channel for t in scorecard.targets if t.channel})
    if form.validate_on_submit():
        try:
            services.set_targets(
                session,
                scorecard,
                team_ids=form.team_ids.data or [],
                channels=form.channels.data or [],
            )
        except ScorecardError as error:
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"Targets of {scorecard.name} saved.", "success")
            return redirect(url_for("scorecards.scorecard", scorecard_id=scorecard.id))
    return render_template("scorecards/targets.html", form=form, scorecard=scorecard)


# Versions ---------------------------------------------------------------------------------------


@bp.get("/<int:scorecard_id>/versions/<int:number>")
@role_required(SCORECARD_VIEWERS)
def version(scorecard_id: int, number: int) -> str:
    """Show a version: sections, criteria, guidance and weights; a draft with its editor."""
    scorecard = _scorecard_or_404(scorecard_id)
    version = next((v for v in scorecard.versions if v.number == number), None)
    if version is None or not may_see_version(current_user, version):
        abort(404)
    published = _published(scorecard)
    diff = validation = None
    if version.is_editable:
        validation = validate_version(version)
        if published is not None:
            diff = diff_versions(published, version)
    return render_template(
        "scorecards/version.html",
        scorecard=scorecard,
        version=version,
        published=published,
        draft=services.draft_of(scorecard) if may_see_drafts(current_user) else None,
        shares=weight_shares(version),
        section_shares=section_shares(version),
        diff=diff,
        validation=validation,
        targets=_target_labels([scorecard])[scorecard.id],
        kind_labels=KIND_LABELS,
        critical_labels=CRITICAL_LABELS,
        action_form=EmptyForm(),
    )


@bp.post("/<int:scorecard_id>/drafts")
@role_required(SCORECARD_EDITORS)
def start_draft(scorecard_id: int) -> Response:
    """Open the scorecard's draft, starting one from the newest version if there is none."""
    session = get_session()
    scorecard = _get_or_404(Scorecard, scorecard_id)
    if EmptyForm().validate_on_submit():
        had_draft = services.draft_of(scorecard) is not None
        draft = services.start_new_draft(session, scorecard, by=current_user)
        session.commit()
        if had_draft:
            flash(f"Version {draft.number} is already a draft: continue editing it.", "info")
        else:
            flash(f"Draft version {draft.number} started from the newest version.", "success")
        return redirect(_version_url(draft))
    return redirect(url_for("scorecards.scorecard", scorecard_id=scorecard.id))


@bp.route("/versions/<int:version_id>/publish", methods=["GET", "POST"])
@role_required(SCORECARD_EDITORS)
def publish(version_id: int) -> str | Response:
    """Confirm and publish a draft; the version it replaces is retired."""
    session = get_session()
    version: ScorecardVersion = _get_or_404(ScorecardVersion, version_id)
    frozen = _frozen(version)
    if frozen:
        return frozen
    form = PublishForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            services.publish_version(
                session, version, by=current_user, change_note=form.change_note.data or ""
            )
        except ScorecardError as error:
            problems = error.problems or [str(error)]
        else:
            session.commit()
            flash(f"Version {version.number} of {version.scorecard.name} published.", "success")
            return redirect(_version_url(version))
    published = _published(version.scorecard)
    return render_template(
        "scorecards/publish.html",
        form=form,
        version=version,
        published=published,
        validation=validate_version(version),
        problems=problems,
        diff=diff_versions(published, version) if published else None,
    )


@bp.post("/versions/<int:version_id>/discard")
@role_required(SCORECARD_EDITORS)
def discard(version_id: int) -> Response:
    """Throw a draft away; the published version is untouched."""
    session = get_session()
    version: ScorecardVersion = _get_or_404(ScorecardVersion, version_id)
    scorecard = version.scorecard
    if EmptyForm().validate_on_submit():
        try:
            services.discard_draft(session, version)
        except ScorecardError as error:
            flash(str(error), "danger")
            return redirect(_version_url(version))
        session.commit()
        flash(f"Draft version {version.number} discarded.", "success")
    return redirect(url_for("scorecards.scorecard", scorecard_id=scorecard.id))


# Sections ---------------------------------------------------------------------------------------


@bp.route("/versions/<int:version_id>/sections/new", methods=["GET", "POST"])
@bp.route("/sections/<int:section_id>/edit", methods=["GET", "POST"])
@role_required(SCORECARD_EDITORS)
def edit_section(version_id: int | None = None, section_id: int | None = None) -> str | Response:
    """Add a section to a draft, or rename one."""
    session = get_session()
    section = _get_or_404(ScorecardSection, section_id) if section_id else None
    version: ScorecardVersion = (
        section.version if section else _get_or_404(ScorecardVersion, version_id)
    )
    frozen = _frozen(version)
    if frozen:
        return frozen
    form = SectionForm(obj=section)
    if form.validate_on_submit():
        try:
            if section is None:
                section = services.add_section(session, version, title=form.title.data or "")
            else:
                services.edit_section(session, section, title=form.title.data or "")
        except ScorecardError as error:
            form.title.errors = [str(error)]
        else:
            session.commit()
            flash(f"Section {section.title} saved.", "success")
            return redirect(_version_url(version, f"section-{section.id}"))
    return render_template(
        "scorecards/edit_section.html", form=form, version=version, section=section
    )


@bp.post("/sections/<int:section_id>/delete")
@role_required(SCORECARD_EDITORS)
def delete_section(section_id: int) -> Response:
    """Delete an empty section of a draft."""
    session = get_session()
    section: ScorecardSection = _get_or_404(ScorecardSection, section_id)
    version = section.version
    if EmptyForm().validate_on_submit():
        try:
            services.delete_section(session, section)
        except ScorecardError as error:
            flash(str(error), "danger")
        else:
            session.commit()
            flash(f"Section {section.title} deleted.", "success")
    return redirect(_version_url(version))


@bp.post("/sections/<int:section_id>/up", defaults={"offset": -1})
@bp.post("/sections/<int:section_id>/down", defaults={"offset": 1})
@role_required(SCORECARD_EDITORS)
def move_section(section_id: int, offset: int) -> Response:
    """Move a section of a draft up or down."""
    session = get_session()
    section: ScorecardSection = _get_or_404(ScorecardSection, section_id)
    version = section.version
    if EmptyForm().validate_on_submit():
        try:
            services.move_section(session, section, offset)
        except ScorecardError as error:
            flash(str(error), "danger")
        else:
            session.commit()
    return redirect(_version_url(version, f"section-{section.id}"))


# Criteria ---------------------------------------------------------------------------------------


@bp.route("/sections/<int:section_id>/criteria/new", methods=["GET", "POST"])
@bp.route("/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@role_required(SCORECARD_EDITORS)
def edit_criterion(
    section_id: int | None = None, criterion_id: int | None = None
) -> str | Response:
    """Add a criterion to a draft's section, or change one."""
    session = get_session()
    criterion: Criterion | None = _get_or_404(Criterion, criterion_id) if criterion_id else None
    section: ScorecardSection = (
        criterion.section if criterion else _get_or_404(ScorecardSection, section_id)
    )
    version = section.version
    frozen = _frozen(version)
    if frozen:
        return frozen
    form = CriterionForm(section_id=section.id)
    form.section_id.choices = choices((s.id, s.title) for s in version.sections)
    if criterion is not None and not form.is_submitted():
        form.load(CriterionSpec.of(criterion))
    other_weight = sum(c.weight for c in version.criteria if c is not criterion)
    form.weight.render_kw = {"data-other-weight": f"{other_weight:g}"}
    if form.validate_on_submit():
        target = next((s for s in version.sections if s.id == form.section_id.data), section)
        try:
            if criterion is None:
                criterion = services.add_criterion(session, target, form.spec())
            else:
                services.edit_criterion(session, criterion, form.spec(), section=target)
        except ScorecardError as error:
            field = getattr(form, error.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(error)]
            else:
                form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"Criterion {criterion.title} saved.", "success")
            return redirect(_version_url(version, f"criterion-{criterion.id}"))
    return render_template(
        "scorecards/edit_criterion.html",
        form=form,
        version=version,
        section=section,
        criterion=criterion,
        initial_share=_share(form.weight.data, other_weight),
    )


@bp.post("/criteria/<int:criterion_id>/delete")
@role_required(SCORECARD_EDITORS)
def delete_criterion(criterion_id: int) -> Response:
    """Delete a criterion of a draft."""
    session = get_session()
    criterion: Criterion = _get_or_404(Criterion, criterion_id)
    version, section_id, title = criterion.version, criterion.section_id, criterion.title
    if EmptyForm().validate_on_submit():
        try:
            services.delete_criterion(session, criterion)
        except ScorecardError as error:
            flash(str(error), "danger")
        else:
            session.commit()
            flash(f"Criterion {title} deleted.", "success")
    return redirect(_version_url(version, f"section-{section_id}"))


@bp.post("/criteria/<int:criterion_id>/up", defaults={"offset": -1})
@bp.post("/criteria/<int:criterion_id>/down", defaults={"offset": 1})
@role_required(SCORECARD_EDITORS)
def move_criterion(criterion_id: int, offset: int) -> Response:
    """Move a criterion of a draft up or down within its section."""
    session = get_session()
    criterion: Criterion = _get_or_404(Criterion, criterion_id)
    version = criterion.version
    if EmptyForm().validate_on_submit():
        try:
            services.move_criterion(session, criterion, offset)
        except ScorecardError as error:
            flash(str(error), "danger")
        else:
            session.commit()
    return redirect(_version_url(version, f"criterion-{criterion.id}"))
