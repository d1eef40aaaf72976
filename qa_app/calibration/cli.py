"""`flask schedule-calibration`: create a month's calibration session from a terminal or cron."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.services import find_user_by_email
from qa_app.calibration import services
from qa_app.calibration.access import FACILITATOR_ROLES, can_facilitate
from qa_app.calibration.models import CalibrationSession
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.org.roles import Role
from qa_app.sampling.periods import Period, PeriodError, parse_period
from qa_app.scorecards.models import Scorecard, ScorecardVersion
from qa_app.scorecards.services import published_version

DEFAULT_CONVERSATIONS = 5
DEFAULT_DUE_DAY = 20
DEFAULT_RATER_ROLES = (Role.QA_SPECIALIST, Role.PARTNER_QA)
DUE_TIME = time(23, 59, tzinfo=UTC)  # ratings are due by the end of the due day, UTC


def _month(text: str) -> Period:
    try:
        period = parse_period(text)
    except PeriodError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    if period.kind != "month":
        raise click.BadParameter(f"{text!r} is not a month; use YYYY-MM.", param_hint="--month")
    return period


def _previous_month(month: Period) -> Period:
    year, number = month.start.year, month.start.month
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return parse_period(f"{year:04d}-{number:02d}")


def _source_period(text: str | None, month: Period) -> Period:
    if text is None:
        return _previous_month(month)
    try:
        return parse_period(text)
    except PeriodError as error:
        raise click.BadParameter(str(error), param_hint="--from-period") from error


def _scorecard(session: Session, scorecard_id: int | None) -> tuple[Scorecard, ScorecardVersion]:
    """The given scorecard, or the demo's default, or the first active one, with its version."""
    from qa_app.scorecards.defaults import DEFAULT_SCORECARD_NAME

    if scorecard_id is not None:
        scorecard = session.get(Scorecard, scorecard_id)
        if scorecard is None:
            raise click.BadParameter(
                f"there is no scorecard {scorecard_id}.", param_hint="--scorecard"
            )
        version = published_version(session, scorecard.id)
        if version is None or not scorecard.is_active:
            raise click.BadParameter(
                f"scorecard {scorecard_id} ({scorecard.name}) is inactive or has no published"
                " version.",
                param_hint="--scorecard",
            )
        return scorecard, version
    active = session.scalars(
        select(Scorecard).where(Scorecard.is_active.is_(True)).order_by(Scorecard.id)
    ).all()
    ranked = sorted(active, key=lambda card: card.name.lower() != DEFAULT_SCORECARD_NAME.lower())
    for scorecard in ranked:
        version = published_version(session, scorecard.id)
        if version is not None:
            return scorecard, version
    raise click.UsageError(
        "No active scorecard has a published version; publish one or give --scorecard."
    )


def _facilitator(session: Session, email: str | None) -> User:
    if email is None:
        user = session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(FACILITATOR_ROLES))
            .order_by(User.id)
        ).first()
        if user is None:
            raise click.UsageError("There is no active administrator or manager to facilitate.")
        return user
    user = find_user_by_email(session, email)
    if user is None:
        raise click.BadParameter(f"there is no user {email}.", param_hint="--facilitator")
    if not can_facilitate(user):
        raise click.BadParameter(
            f"{user.email} cannot facilitate: facilitators are active administrators and managers.",
            param_hint="--facilitator",
        )
    return user


def _raters(session: Session, emails: str | None) -> list[User]:
    if emails is None:
        return list(
            session.scalars(
                select(User)
                .where(User.is_active.is_(True), User.role.in_(DEFAULT_RATER_ROLES))
                .order_by(User.partner_id.is_not(None), User.partner_id, User.name, User.id)
            )
        )
    raters: list[User] = []
    for email in dict.fromkeys(part.strip() for part in emails.split(",") if part.strip()):
        user = find_user_by_email(session, email)
        if user is None:
            raise click.BadParameter(f"there is no user {email}.", param_hint="--raters")
        if not user.is_active or user.role not in services.RATER_ROLES:
            raise click.BadParameter(
                f"{user.email} cannot rate: raters are active QA specialists, partner QA or"
                " managers.",
                param_hint="--raters",
            )
        raters.append(user)
    return raters


def _due(month: Period, day: int) -> datetime:
    last = calendar.monthrange(month.start.year, month.start.month)[1]
    if not 1 <= day <= last:
        raise click.BadParameter(
            f"{month.label} has days 1 to {last}, not {day}.", param_hint="--due-day"
        )
    due_at = datetime.combine(month.start.date().replace(day=day), DUE_TIME)
    if due_at <= datetime.now(UTC):
        raise click.BadParameter(
            f"{due_at:%Y-%m-%d %H:%M} UTC has passed; the due date must be in the future.",
            param_hint="--due-day",
        )
    return due_at


def _existing(session: Session, series_key: str) -> CalibrationSession | None:
    return session.scalars(
        select(CalibrationSession).where(CalibrationSession.series_key == series_key)
    ).first()


def _describe(session: Session, calibration: CalibrationSession) -> list[str]:
    ids = [item.conversation_id for item in calibration.items]
    conversations = {
        row.id: row
        for row in session.execute(
            select(Conversation.id, Conversation.external_id, Conversation.channel).where(
                Conversation.id.in_(ids)
            )
        )
    }
    return [
        f"  #{cid} {conversations[cid].external_id} ({conversations[cid].channel})" for cid in ids
    ]


@click.command("schedule-calibration")
@with_appcontext
@click.option(
    "--month", "month_text", required=True, metavar="YYYY-MM", help="The session's month."
)
@click.option(
    "--scorecard",
    "scorecard_id",
    type=int,
    help="Scorecard id (default: the demo's, else the first active one with a published version).",
)
@click.option(
    "--facilitator",
    "facilitator_email",
    metavar="EMAIL",
    help="Who runs the session (default: the first active administrator or manager).",
)
@click.option(
    "--raters",
    "rater_emails",
    metavar="EMAILS",
    help="Comma-separated emails (default: every active QA specialist and partner QA).",
)
@click.option(
    "--conversations",
    "count",
    type=int,
    default=DEFAULT_CONVERSATIONS,
    show_default=True,
    help="How many conversations to sample.",
)
@click.option(
    "--from-period",
    "from_text",
    metavar="YYYY-MM",
    help="Sample conversations started in this period (default: the month before --month).",
)
@click.option(
    "--due-day",
    type=int,
    default=DEFAULT_DUE_DAY,
    show_default=True,
    help="Day of the month by whose end (UTC) the ratings are due.",
)
@click.option("--seed", type=int, help="Sampling seed (default: the month as YYYYMM).")
@click.option("--title", help="Session title (default: '<Month> <year> calibration').")
def schedule_calibration(
    month_text: str,
    scorecard_id: int | None,
    facilitator_email: str | None,
    rater_emails: str | None,
    count: int,
    from_text: str | None,
    due_day: int,
    seed: int | None,
    title: str | None,
) -> None:
    """Create the month's calibration session; a month already scheduled adds nothing."""
    month = _month(month_text)
    source = _source_period(from_text, month)
    session = get_session()
    scorecard, version = _scorecard(session, scorecard_id)
    series_key = f"{scorecard.id}:{month.label}"
    existing = _existing(session, series_key)
    if existing is not None:
        click.echo(
            f"Session {existing.id} {existing.title!r} already exists for {month.label}"
            f" ({scorecard.name}); nothing added."
        )
        return
    if not 1 <= count <= services.MAX_ITEMS:
        raise click.BadParameter(
            f"sample between 1 and {services.MAX_ITEMS} conversations, not {count}.",
            param_hint="--conversations",
        )
    due_at = _due(month, due_day)
    facilitator = _facilitator(session, facilitator_email)
    raters = _raters(session, rater_emails)
    if len(raters) < services.MIN_RATERS:
        raise click.UsageError(
            f"A session needs at least {services.MIN_RATERS} raters; found {len(raters)}."
        )
    conversation_ids = services.sample_conversations(
        session,
        raters=raters,
        count=count,
        seed=seed if seed is not None else month.start.year * 100 + month.start.month,
        period=source,
    )
    if not conversation_ids:
        raise click.UsageError(
            f"No conversation of {source.label} can be sampled: none that every rater may"
            " read and that is not reviewed, assigned or in another session."
        )
    try:
        calibration = services.create_session(
            session,
            services.SessionInput(
                title=title if title is not None else f"{month.start:%B %Y} calibration",
                scorecard_version_id=version.id,
                conversation_ids=conversation_ids,
                rater_ids=[rater.id for rater in raters],
                due_at=due_at,
                series_key=series_key,
            ),
            by=facilitator,
        )
    except services.CalibrationError as error:
        session.rollback()
        raise click.UsageError(str(error)) from error
    session.commit()
    _report(session, calibration, scorecard, version, count, source)


def _report(
    session: Session,
    calibration: CalibrationSession,
    scorecard: Scorecard,
    version: ScorecardVersion,
    requested: int,
    source: Period,
) -> None:
    in_house = sum(1 for rater in calibration.raters if rater.partner_id is None)
    click.echo(
        f"Created session {calibration.id} {calibration.title!r}:"
        f" {scorecard.name} v{version.number}, due {calibration.due_at:%Y-%m-%d %H:%M} UTC,"
        f" facilitated by {calibration.facilitator.email}."
    )
    click.echo(
        f"{len(calibration.raters)} raters ({in_house} in-house,"
        f" {len(calibration.raters) - in_house} partner)."
    )
    click.echo(f"{len(calibration.items)} conversations from {source.label}:")
    for line in _describe(session, calibration):
        click.echo(line)
    if len(calibration.items) < requested:
        click.echo(
            f"Only {len(calibration.items)} of the {requested} conversations asked for could be"
            f" sampled from {source.label}.",
            err=True,
        )
