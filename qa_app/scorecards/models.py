"""Scorecards and their versions: sections, criteria, and where each scorecard applies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_app.db import Model, string_enum, utcnow
from qa_app.org.models import Team
from qa_app.scorecards.scoring import CriterionKind, CriterionRule, Critical


class VersionStatus(StrEnum):
    DRAFT = "draft"  # editable
    PUBLISHED = "published"  # frozen; new reviews use the newest published version
    RETIRED = "retired"  # frozen; replaced by a newer published version


class Scorecard(Model):
    """A named scorecard; what it asks lives in its versions."""

    __tablename__ = "scorecard"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ScorecardVersion]] = relationship(
        back_populates="scorecard", order_by="ScorecardVersion.number"
    )
    targets: Mapped[list[ScorecardTarget]] = relationship(
        back_populates="scorecard", cascade="all, delete-orphan"
    )


class ScorecardVersion(Model):
    """One version of a scorecard. Reviews pin the version they were scored on."""

    __tablename__ = "scorecard_version"
    __table_args__ = (UniqueConstraint("scorecard_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"), index=True)
    number: Mapped[int]
    status: Mapped[VersionStatus] = mapped_column(
        string_enum(VersionStatus, "version_status"), default=VersionStatus.DRAFT
    )
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    scorecard: Mapped[Scorecard] = relationship(back_populates="versions")
    sections: Mapped[list[ScorecardSection]] = relationship(
        back_populates="version", order_by="ScorecardSection.position", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="version",
        order_by="Criterion.id",
        cascade="all, delete-orphan",
        overlaps="section,criteria",
    )

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def rules(self) -> list[CriterionRule]:
        """The criteria as the scoring function sees them, in display order."""
        return [criterion.rule() for section in self.sections for criterion in section.criteria]


class ScorecardSection(Model):
    __tablename__ = "scorecard_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("scorecard_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(120))

    version: Mapped[ScorecardVersion] = relationship(back_populates="sections")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="section",
        order_by="Criterion.position",
        cascade="all, delete-orphan",
        overlaps="criteria,version",
    )


class Criterion(Model):
    """One question of a scorecard version.

    ``key`` stays the same across versions of a scorecard (a slug such as ``empathy``), so
    answers can be compared over time and in calibration even when the wording changes.
    """

    __tablename__ = "criterion"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("scorecard_version.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("scorecard_section.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[CriterionKind] = mapped_column(string_enum(CriterionKind, "criterion_kind"))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    allow_na: Mapped[bool] = mapped_column(default=False)
    scale_max: Mapped[int] = mapped_column(default=5)
    # Labels of the scale points 1..scale_max, e.g. ["Poor", "Fair", "Good", "Very good"]
    scale_labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_points: Mapped[int] = mapped_column(default=1)
    critical: Mapped[Critical] = mapped_column(
        string_enum(Critical, "criterion_critical"), default=Critical.NO
    )

    version: Mapped[ScorecardVersion] = relationship(back_populates="criteria", overlaps="criteria")
    section: Mapped[ScorecardSection] = relationship(back_populates="criteria", overlaps="criteria")

    def rule(self) -> CriterionRule:
        return CriterionRule(
            key=self.key,
            section=self.section.title,
            kind=self.kind,
            weight=self.weight,
            allow_na=self.allow_na,
            scale_max=self.scale_max,
            max_points=self.max_points,
            critical=self.critical,
        )


class ScorecardTarget(Model):
    """Where a scorecard applies: a team, a channel, or both; neither means everywhere."""

    __tablename__ = "scorecard_target"
    __table_args__ = (UniqueConstraint("scorecard_id", "team_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))

    scorecard: Mapped[Scorecard] = relationship(back_populates="targets")
    team: Mapped[Team | None] = relationship()
