"""Read-only views of a version: each criterion's share of the weight, and what a draft changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.validation import CRITICAL_LABELS, KIND_LABELS


def weight_shares(version: ScorecardVersion) -> dict[int, float]:
    """Percent of the version's total weight per criterion id, when every criterion counts.

    An N/A answer takes its criterion out of a review, so in that review the others weigh more.
    """
    criteria = [criterion for section in version.sections for criterion in section.criteria]
    total = sum(criterion.weight for criterion in criteria)
    if total <= 0:
        return {criterion.id: 0.0 for criterion in criteria}
    return {criterion.id: 100.0 * criterion.weight / total for criterion in criteria}


def section_shares(version: ScorecardVersion) -> dict[int, float]:
    """Percent of the version's total weight per section id."""
    shares = weight_shares(version)
    return {
        section.id: sum(shares[criterion.id] for criterion in section.criteria)
        for section in version.sections
    }


@dataclass(frozen=True)
class CriterionChange:
    key: str
    title: str
    changes: tuple[str, ...]  # in words: "weight 1 → 2"


@dataclass
class VersionDiff:
    """What ``new`` changes compared with ``base``, criteria matched by key."""

    base_number: int
    added: list[Criterion] = field(default_factory=list)
    removed: list[Criterion] = field(default_factory=list)
    changed: list[CriterionChange] = field(default_factory=list)
    sections_added: list[str] = field(default_factory=list)
    sections_removed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        criteria = self.added or self.removed or self.changed
        return not (criteria or self.sections_added or self.sections_removed)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _labels(labels: list[str]) -> str:
    return " / ".join(labels) if labels else "none"


# (what, how to read it from a criterion, how to show it); order is the order shown.
_FIELDS: list[tuple[str, Callable[[Criterion], object], Callable[[object], str]]] = [
    ("title", lambda c: c.title, lambda v: f"“{v}”"),
    ("section", lambda c: c.section.title, lambda v: f"“{v}”"),
    ("type", lambda c: c.kind, lambda v: KIND_LABELS[v]),  # type: ignore[index]
    ("weight", lambda c: c.weight, lambda v: f"{v:g}"),
    ("N/A allowed", lambda c: c.allow_na, lambda v: _yes_no(bool(v))),
    ("scale", lambda c: c.scale_max, lambda v: f"1–{v}"),
    ("scale labels", lambda c: list(c.scale_labels or []), lambda v: _labels(v)),  # type: ignore[arg-type]
    ("points", lambda c: c.max_points, lambda v: f"0–{v}"),
    ("critical", lambda c: c.critical, lambda v: CRITICAL_LABELS[v]),  # type: ignore[index]
]


def _changes(old: Criterion, new: Criterion) -> tuple[str, ...]:
    found = []
    for name, read, show in _FIELDS:
        before, after = read(old), read(new)
        if before != after:
            found.append(f"{name} {show(before)} → {show(after)}")
    if old.guidance.strip() != new.guidance.strip():
        found.append("guidance reworded")
    return tuple(found)


def diff_versions(base: ScorecardVersion, new: ScorecardVersion) -> VersionDiff:
    """Criteria added, removed and changed (by key), and sections added or removed (by title)."""
    old_by_key = {c.key: c for section in base.sections for c in section.criteria}
    new_by_key = {c.key: c for section in new.sections for c in section.criteria}
    diff = VersionDiff(base_number=base.number)
    diff.added = [c for key, c in new_by_key.items() if key not in old_by_key]
    diff.removed = [c for key, c in old_by_key.items() if key not in new_by_key]
    for key, criterion in new_by_key.items():
        if key in old_by_key:
            changes = _changes(old_by_key[key], criterion)
            if changes:
                diff.changed.append(CriterionChange(key, criterion.title, changes))
    old_titles = [section.title for section in base.sections]
    new_titles = [section.title for section in new.sections]
    diff.sections_added = [title for title in new_titles if title not in old_titles]
    diff.sections_removed = [title for title in old_titles if title not in new_titles]
    return diff
