"""Operations on scorecards: drafts, sections, criteria, publishing, targets, and which applies.

Only a draft version can change. Publishing freezes it and retires the version it replaces;
changing a published scorecard starts a new draft that copies the newest version, criterion keys
included. Every function flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.conversations.records import CHANNELS
from qa_app.db import utcnow
from qa_app.org.models import Team
from qa_app.scorecards.models import (
    Criterion,
    Scorecard,
    ScorecardSection,
    ScorecardTarget,
    ScorecardVersion,
    VersionStatus,
)
from qa_app.scorecards.validation import (
    MAX_SECTION_TITLE_LENGTH,
    CriterionSpec,
    criterion_problems,
    validate_version,
)

MAX_NAME_LENGTH = 120


class ScorecardError(ValueError):
    """A scorecard rule was broken; the message is fit to show the user.

    ``field`` names the form field the error is about; ``problems`` lists every reason a version
    cannot be published.
    """

    def __init__(
        self, message: str, *, field: str | None = None, problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problems = list(problems)


class _Positioned(Protocol):
    position: int


P = TypeVar("P", bound=_Positioned)


# Scorecards -------------------------------------------------------------------------------------


def _check_name(session: Session, name: str, own_id: int | None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ScorecardError("Give the scorecard a name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ScorecardError(f"Keep the name under {MAX_NAME_LENGTH} characters.", field="name")
    taken = session.scalars(
        select(Scorecard.id).where(func.lower(Scorecard.name) == name.lower())
    ).first()
    if taken is not None and taken != own_id:
        raise ScorecardError("A scorecard with that name already exists.", field="name")
    return name


def create_scorecard(
    session: Session, *, name: str, description: str = "", by: User | None = None
) -> Scorecard:
    """A new scorecard with an empty version 1 draft."""
    scorecard = Scorecard(name=_check_name(session, name, None), description=description.strip())
    session.add(scorecard)
    scorecard.versions.append(
        ScorecardVersion(number=1, status=VersionStatus.DRAFT, created_by_id=by.id if by else None)
    )
    session.flush()
    return scorecard


def update_scorecard(
    session: Session, scorecard: Scorecard, *, name: str, description: str
) -> Scorecard:
    """Rename or describe a scorecard; its versions are untouched."""
    scorecard.name = _check_name(session, name, scorecard.id)
    scorecard.description = description.strip()
    session.flush()
    return scorecard


def set_scorecard_active(session: Session, scorecard: Scorecard, active: bool) -> None:
    """An inactive scorecard is no longer chosen for new reviews; its versions stay readable."""
    scorecard.is_active = active
    session.flush()


def newest_version(scorecard: Scorecard) -> ScorecardVersion | None:
    return max(scorecard.versions, key=lambda version: version.number, default=None)


def draft_of(scorecard: Scorecard) -> ScorecardVersion | None:
    """The scorecard's draft version, if it has one (there is never more than one)."""
    return next((v for v in scorecard.versions if v.status == VersionStatus.DRAFT), None)


def _lock(session: Session, scorecard: Scorecard) -> None:
    # Serialises publishing and new drafts of one scorecard on PostgreSQL; SQLite locks anyway.
    session.execute(select(Scorecard.id).where(Scorecard.id == scorecard.id).with_for_update())


def _require_draft(version: ScorecardVersion) -> None:
    if not version.is_editable:
        raise ScorecardError(
            f"Version {version.number} of “{version.scorecard.name}” is {version.status.value}"
            " and frozen: start a new draft to change it."
        )


def _renumber(items: Iterable[P]) -> None:
    for position, item in enumerate(items):
        item.position = position


def _move(items: list[P], item: P, offset: int) -> bool:
    """Move ``item`` by ``offset`` places within ``items`` (ordered); False at either end."""
    index = items.index(item)
    target = index + offset
    if offset == 0 or not 0 <= target < len(items):
        return False
    items.insert(target, items.pop(index))
    _renumber(items)
    return True


# Sections ---------------------------------------------------------------------------------------


def _check_section_title(version: ScorecardVersion, title: str, own_id: int | None) -> str:
    title = " ".join(title.split())
    if not title:
        raise ScorecardError("Give the section a title.", field="title")
    if len(title) > MAX_SECTION_TITLE_LENGTH:
        raise ScorecardError(
            f"Keep the title under {MAX_SECTION_TITLE_LENGTH} characters.", field="title"
        )
    for section in version.sections:
        if section.id != own_id and section.title.lower() == title.lower():
            raise ScorecardError(
                "This version already has a section with that title.", field="title"
            )
    return title


def add_section(session: Session, version: ScorecardVersion, *, title: str) -> ScorecardSection:
    _require_draft(version)
    section = ScorecardSection(
        title=_check_section_title(version, title, None), position=len(version.sections)
    )
    version.sections.append(section)
    session.flush()
    return section


def edit_section(session: Session, section: ScorecardSection, *, title: str) -> ScorecardSection:
    _require_draft(section.version)
    section.title = _check_section_title(section.version, title, section.id)
    session.flush()
    return section


def move_section(session: Session, section: ScorecardSection, offset: int) -> bool:
    """Move a section up (-1) or down (+1); False when it is already first or last."""
    version = section.version
    _require_draft(version)
    sections = list(version.sections)
    moved = _move(sections, section, offset)
    session.flush()
    session.expire(version, ["sections"])
    return moved


def delete_section(session: Session, section: ScorecardSection) -> None:
    """Delete an empty section; one with criteria is refused so nothing goes by accident."""
    version = section.version
    _require_draft(version)
    if section.criteria:
        raise ScorecardError(
            f"Section “{section.title}” still has criteria: move or delete them first."
        )
    session.delete(section)
    session.flush()
    session.expire(version, ["sections"])
    _renumber(version.sections)
    session.flush()


# Criteria ---------------------------------------------------------------------------------------


def _checked_spec(
    version: ScorecardVersion, spec: CriterionSpec, own_id: int | None
) -> CriterionSpec:
    spec = spec.normalised()
    problems = criterion_problems(spec)
    if problems:
        raise ScorecardError(problems[0].message, field=problems[0].field)
    if any(c.key == spec.key and c.id != own_id for c in version.criteria):
        raise ScorecardError(
            f"Another criterion of this version already has the key {spec.key}.", field="key"
        )
    return spec


def _apply(criterion: Criterion, spec: CriterionSpec) -> None:
    criterion.key = spec.key
    criterion.title = spec.title
    criterion.guidance = spec.guidance
    criterion.kind = spec.kind
    criterion.weight = float(spec.weight)
    criterion.allow_na = spec.allow_na
    criterion.scale_max = spec.scale_max
    criterion.scale_labels = list(spec.scale_labels)
    criterion.max_points = spec.max_points
    criterion.critical = spec.critical


def add_criterion(session: Session, section: ScorecardSection, spec: CriterionSpec) -> Criterion:
    """Add a criterion at the end of ``section``; a blank key is made from the title."""
    version = section.version
    _require_draft(version)
    spec = _checked_spec(version, spec, None)
    criterion = Criterion(version=version, section=section, position=len(section.criteria))
    _apply(criterion, spec)
    session.add(criterion)
    session.flush()
    return criterion


def edit_criterion(
    session: Session,
    criterion: Criterion,
    spec: CriterionSpec,
    *,
    section: ScorecardSection | None = None,
) -> Criterion:
    """Change a criterion; with ``section`` it moves to the end of that section."""
    version = criterion.version
    _require_draft(version)
    if section is not None and section.version_id != version.id:
        raise ScorecardError("Choose a section of the same version.", field="section_id")
    spec = _checked_spec(version, spec, criterion.id)
    _apply(criterion, spec)
    if section is not None and section is not criterion.section:
        old_section = criterion.section
        criterion.position = len(section.criteria)
        criterion.section = section  # also takes it out of the old section's list
        _renumber(old_section.criteria)
    session.flush()
    return criterion


def move_criterion(session: Session, criterion: Criterion, offset: int) -> bool:
    """Move a criterion up (-1) or down (+1) within its section; False at either end."""
    _require_draft(criterion.version)
    section = criterion.section
    moved = _move(list(section.criteria), criterion, offset)
    session.flush()
    session.expire(section, ["criteria"])
    return moved


def delete_criterion(session: Session, criterion: Criterion) -> None:
    version, section = criterion.version, criterion.section
    _require_draft(version)
    session.delete(criterion)
    session.flush()
    session.expire(section, ["criteria"])
    session.expire(version, ["criteria"])
    _renumber(section.criteria)
    session.flush()


# Versions ---------------------------------------------------------------------------------------


def publish_version(
    session: Session, version: ScorecardVersion, *, by: User | None = None, change_note: str = ""
) -> ScorecardVersion:
    """Freeze a valid draft; the version it replaces is retired. Reviews already made keep the
    version they pinned."""
    _require_draft(version)
    _lock(session, version.scorecard)
    validation = validate_version(version)
    if not validation.ok:
        raise ScorecardError(
            f"Version {version.number} cannot be published yet.", problems=validation.problems
        )
    for other in version.scorecard.versions:
        if other is not version and other.status == VersionStatus.PUBLISHED:
            other.status = VersionStatus.RETIRED
    version.status = VersionStatus.PUBLISHED
    version.published_at = utcnow()
    version.published_by_id = by.id if by else None
    version.change_note = change_note.strip()
    session.flush()
    return version


def start_new_draft(
    session: Session, scorecard: Scorecard, *, by: User | None = None
) -> ScorecardVersion:
    """The scorecard's draft: the existing one, or a copy of the newest version numbered n+1."""
    _lock(session, scorecard)
    existing = draft_of(scorecard)
    if existing is not None:
        return existing
    source = newest_version(scorecard)
    draft = ScorecardVersion(
        number=source.number + 1 if source else 1,
        status=VersionStatus.DRAFT,
        created_by_id=by.id if by else None,
    )
    scorecard.versions.append(draft)
    for old_section in source.sections if source else []:
        section = ScorecardSection(title=old_section.title, position=old_section.position)
        draft.sections.append(section)
        for old in old_section.criteria:
            criterion = Criterion(version=draft, section=section, position=old.position)
            _apply(criterion, CriterionSpec.of(old))
            session.add(criterion)
    session.flush()
    return draft


def discard_draft(session: Session, version: ScorecardVersion) -> None:
    """Delete a draft with its sections and criteria; the published version is untouched."""
    _require_draft(version)
    scorecard = version.scorecard
    if len(scorecard.versions) == 1:
        raise ScorecardError(
            f"Version {version.number} is the only version of “{scorecard.name}”: edit it, or"
            " deactivate the scorecard."
        )
    session.delete(version)
    session.flush()
    session.expire(scorecard, ["versions"])


# Targets and lookup -----------------------------------------------------------------------------


def set_targets(
    session: Session, scorecard: Scorecard, *, team_ids: Iterable[int], channels: Iterable[str]
) -> list[ScorecardTarget]:
    """Apply the scorecard to these teams on these channels.

    Teams and channels combine: both given means each team on each channel; only teams means
    those teams on every channel; only channels means every team on those channels; neither
    means everywhere (an untargeted scorecard).
    """
    wanted_teams = sorted(set(team_ids))
    wanted_channels = sorted({channel.strip().lower() for channel in channels})
    unknown = set(wanted_channels) - set(CHANNELS)
    if unknown:
        raise ScorecardError(f"Unknown channel: {', '.join(sorted(unknown))}.", field="channels")
    if wanted_teams:
        found = set(session.scalars(select(Team.id).where(Team.id.in_(wanted_teams))))
        if found != set(wanted_teams):
            raise ScorecardError("Choose existing teams.", field="team_ids")
    team_options: list[int | None] = [*wanted_teams] or [None]
    channel_options: list[str | None] = [*wanted_channels] or [None]
    pairs = {(team_id, channel) for team_id in team_options for channel in channel_options} - {
        (None, None)
    }
    for target in list(scorecard.targets):
        if (target.team_id, target.channel) not in pairs:
            scorecard.targets.remove(target)
    present = {(target.team_id, target.channel) for target in scorecard.targets}
    for team_id, channel in sorted(pairs - present, key=str):
        scorecard.targets.append(ScorecardTarget(team_id=team_id, channel=channel))
    session.flush()
    return list(scorecard.targets)


def published_version(session: Session, scorecard_id: int) -> ScorecardVersion | None:
    """The scorecard's newest published version: the one new reviews are scored on."""
    stmt = (
        select(ScorecardVersion)
        .where(
            ScorecardVersion.scorecard_id == scorecard_id,
            ScorecardVersion.status == VersionStatus.PUBLISHED,
        )
        .order_by(ScorecardVersion.number.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def scorecard_for_conversation(
    session: Session, conversation: Conversation
) -> ScorecardVersion | None:
    """The published version a new review of ``conversation`` should use.

    Among active scorecards with a published version whose targets match the conversation, the
    best match wins: a target on its team and channel, then on its team only, then on its
    channel only, then an untargeted scorecard; ties go to the lowest scorecard id.
    """
    target = ScorecardTarget
    team_matches = (
        target.team_id == conversation.team_id if conversation.team_id is not None else false()
    )
    channel_matches = target.channel == conversation.channel
    rank = case(
        (and_(team_matches, channel_matches), 3),
        (and_(team_matches, target.channel.is_(None)), 2),
        (and_(target.team_id.is_(None), channel_matches), 1),
        else_=-1,
    )
    best_target = (
        select(target.scorecard_id, func.max(rank).label("rank"))
        .group_by(target.scorecard_id)
        .subquery()
    )
    has_published = (
        select(ScorecardVersion.id)
        .where(
            ScorecardVersion.scorecard_id == Scorecard.id,
            ScorecardVersion.status == VersionStatus.PUBLISHED,
        )
        .exists()
    )
    scorecard_rank = func.coalesce(best_target.c.rank, 0)  # no targets at all: everywhere
    stmt = (
        select(Scorecard.id)
        .outerjoin(best_target, best_target.c.scorecard_id == Scorecard.id)
        .where(Scorecard.is_active, has_published, scorecard_rank >= 0)
        .order_by(scorecard_rank.desc(), Scorecard.id)
        .limit(1)
    )
    scorecard_id = session.scalars(stmt).first()
    return published_version(session, scorecard_id) if scorecard_id is not None else None
