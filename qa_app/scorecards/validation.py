"""What makes a criterion, and a version about to be published, well-formed."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace

from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import CriterionKind, Critical

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_KEY_LENGTH = 60
MAX_TITLE_LENGTH = 200
MAX_SECTION_TITLE_LENGTH = 120
MIN_SCALE, MAX_SCALE = 2, 10
MAX_POINTS = 100
MAX_WEIGHT = 100.0
MAX_LABEL_LENGTH = 60

KIND_LABELS = {
    CriterionKind.YES_NO: "Yes / no",
    CriterionKind.SCALE: "Rating scale",
    CriterionKind.POINTS: "Points",
}
CRITICAL_LABELS = {
    Critical.NO: "Not critical",
    Critical.SECTION: "Critical: fails its section",
    Critical.REVIEW: "Critical: fails the whole review (auto-fail)",
}


def slugify_key(text: str) -> str:
    """A criterion key made from a title: "Tone & empathy" -> "tone_empathy"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if slug and not slug[0].isalpha():
        slug = f"c_{slug}"
    return slug[:MAX_KEY_LENGTH].rstrip("_")


@dataclass(frozen=True)
class CriterionSpec:
    """The editable fields of a criterion, as a form or the demo gives them."""

    title: str
    kind: CriterionKind
    key: str = ""  # blank: made from the title
    guidance: str = ""
    weight: float = 1.0
    allow_na: bool = False
    scale_max: int = 5  # rating scales: 1..scale_max
    scale_labels: tuple[str, ...] = ()  # rating scales: none, or one per point
    max_points: int = 1  # points: 0..max_points
    critical: Critical = Critical.NO

    def normalised(self) -> CriterionSpec:
        """Trimmed text, a key from the title if none was given, and the fields that do not
        apply to the kind reset to their defaults (so versions compare equal when they should)."""
        title = " ".join(self.title.split())
        spec = replace(
            self,
            title=title,
            key=self.key.strip().lower() or slugify_key(title),
            guidance=self.guidance.strip().replace("\r\n", "\n"),
            scale_labels=tuple(label.strip() for label in self.scale_labels),
        )
        if spec.kind != CriterionKind.SCALE:
            spec = replace(spec, scale_max=5, scale_labels=())
        if spec.kind != CriterionKind.POINTS:
            spec = replace(spec, max_points=1)
        return spec

    @classmethod
    def of(cls, criterion: Criterion) -> CriterionSpec:
        return cls(
            title=criterion.title,
            kind=criterion.kind,
            key=criterion.key,
            guidance=criterion.guidance,
            weight=criterion.weight,
            allow_na=criterion.allow_na,
            scale_max=criterion.scale_max,
            scale_labels=tuple(criterion.scale_labels or ()),
            max_points=criterion.max_points,
            critical=criterion.critical,
        )


@dataclass(frozen=True)
class Problem:
    """A reason a criterion cannot be saved or a version cannot be published."""

    message: str
    field: str | None = None  # the form field it is about, if any


def criterion_problems(spec: CriterionSpec) -> list[Problem]:
    """What is wrong with one (normalised) criterion, field by field."""
    problems: list[Problem] = []
    if not spec.title:
        problems.append(Problem("Give the criterion a title.", "title"))
    elif len(spec.title) > MAX_TITLE_LENGTH:
        problems.append(Problem(f"Keep the title under {MAX_TITLE_LENGTH} characters.", "title"))
    if not spec.key:
        problems.append(Problem("Give the criterion a key such as empathy.", "key"))
    elif len(spec.key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(spec.key):
        problems.append(
            Problem(
                f"A key is up to {MAX_KEY_LENGTH} lower-case letters, digits and underscores,"
                " starting with a letter.",
                "key",
            )
        )
    if not math.isfinite(spec.weight) or spec.weight <= 0:
        problems.append(Problem("The weight must be more than 0.", "weight"))
    elif spec.weight > MAX_WEIGHT:
        problems.append(Problem(f"The weight must be at most {MAX_WEIGHT:g}.", "weight"))
    if spec.kind == CriterionKind.SCALE:
        problems.extend(_scale_problems(spec))
    if spec.kind == CriterionKind.POINTS and not 1 <= spec.max_points <= MAX_POINTS:
        problems.append(
            Problem(f"Points criteria give 0 up to 1..{MAX_POINTS} points.", "max_points")
        )
    return problems


def _scale_problems(spec: CriterionSpec) -> list[Problem]:
    if not MIN_SCALE <= spec.scale_max <= MAX_SCALE:
        return [
            Problem(f"A rating scale has {MIN_SCALE} to {MAX_SCALE} points.", "scale_max"),
        ]
    problems = []
    labels = spec.scale_labels
    if labels and len(labels) != spec.scale_max:
        problems.append(
            Problem(
                f"Give one label per point of the scale ({spec.scale_max}), or none;"
                f" got {len(labels)}.",
                "scale_labels",
            )
        )
    if any(not label for label in labels):
        problems.append(Problem("Scale labels must not be blank.", "scale_labels"))
    if any(len(label) > MAX_LABEL_LENGTH for label in labels):
        problems.append(
            Problem(f"Keep each label under {MAX_LABEL_LENGTH} characters.", "scale_labels")
        )
    if len({label.lower() for label in labels}) != len(labels):
        problems.append(Problem("Each point of the scale needs its own label.", "scale_labels"))
    return problems


@dataclass
class Validation:
    """Problems block publishing; warnings are shown but do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_version(version: ScorecardVersion) -> Validation:
    """Check a whole version before it is published."""
    result = Validation()
    criteria = [criterion for section in version.sections for criterion in section.criteria]
    if not criteria:
        result.problems.append("Add at least one criterion before publishing.")
    seen_titles: set[str] = set()
    for section in version.sections:
        title = section.title.strip().lower()
        if title in seen_titles:
            result.problems.append(
                f"Two sections are called “{section.title}”: section scores are reported by"
                " title, so give each section its own."
            )
        seen_titles.add(title)
        if not section.criteria:
            result.problems.append(
                f"Section “{section.title}” has no criteria: add some or delete it."
            )
        _critical_warnings(section.title, section.criteria, result)
    seen_keys: set[str] = set()
    for criterion in criteria:
        name = f"“{criterion.title}” ({criterion.key})"
        if criterion.key in seen_keys:
            result.problems.append(f"{name}: another criterion already has the key.")
        seen_keys.add(criterion.key)
        spec = CriterionSpec.of(criterion)
        result.problems.extend(f"{name}: {problem.message}" for problem in criterion_problems(spec))
    if criteria and all(criterion.allow_na for criterion in criteria):
        result.warnings.append(
            "Every criterion allows N/A: a review answered N/A throughout will have no score."
        )
    return result


def _critical_warnings(section_title: str, criteria: list[Criterion], result: Validation) -> None:
    for criterion in criteria:
        if criterion.critical == Critical.NO:
            continue
        name = f"“{criterion.title}” ({criterion.key})"
        if criterion.kind == CriterionKind.SCALE:
            result.warnings.append(
                f"{name} is critical on a rating scale: only a rating of 1 fails it."
            )
        elif criterion.kind == CriterionKind.POINTS:
            result.warnings.append(f"{name} is critical on points: only 0 points fails it.")
        if criterion.critical == Critical.SECTION and len(criteria) == 1:
            result.warnings.append(
                f"{name} fails its section, but it is the only criterion of “{section_title}”:"
                " failing it changes nothing beyond its own score."
            )
