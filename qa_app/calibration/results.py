"""The results of a revealed calibration session: agreement, accuracy and groups.

Plain Python over a database session (no Flask). :func:`compute_results` loads the submitted
ratings once and feeds :mod:`qa_app.calibration.stats`; the page, the CSV export and the stored
per-group figures (:mod:`qa_app.calibration.trends`) all come from it.

Raters are the rows and conversations the columns of every ratings matrix; the benchmark is
never a row, it is what raters are measured against.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from qa_app.calibration import stats
from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
)
from qa_app.reviews.answers import ordered_criteria
from qa_app.scorecards.models import Criterion, ScorecardSection, ScorecardVersion
from qa_app.scorecards.scoring import NA, AnswerError, CriterionKind, answer_fraction

GROUP_ALL: Final = "all"
GROUP_IN_HOUSE: Final = "in_house"
GROUP_LABELS: Final = {GROUP_ALL: "All raters", GROUP_IN_HOUSE: "In-house"}
#: Above this share of one answer, alpha can be low although nearly everybody agrees.
DOMINANCE_SHARE: Final = 0.8
LEVEL_OF_KIND: Final = {
    CriterionKind.YES_NO: "nominal",  # N/A stays a category: applicability is a judgement too
    CriterionKind.SCALE: "ordinal",  # N/A is missing
    CriterionKind.POINTS: "interval",  # N/A is missing
}
_YES_NO_LABELS: Final = {"yes": "Yes", "no": "No", NA: "N/A"}


def partner_group_key(partner_id: int) -> str:
    return f"partner:{partner_id}"


# Results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha with its bootstrap 95 % interval and Krippendorff's reading."""

    alpha: float | None
    ci: tuple[float, float] | None
    reading: str
    units: int  # conversations with at least two ratings: the ones alpha rests on
    ratings: int  # ratings given (N/A counts where it is a category)


@dataclass(frozen=True)
class ValueCount:
    value: str  # as stored: "yes", "no", "na" or digits
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class CriterionResult:
    criterion_id: int
    key: str
    title: str
    kind: CriterionKind
    level: str
    agreement: Agreement
    percent_agreement: float | None
    ac1: float | None
    distribution: tuple[ValueCount, ...]

    @property
    def dominant(self) -> ValueCount | None:
        return max(self.distribution, key=lambda item: item.count, default=None)

    @property
    def one_answer_dominates(self) -> bool:
        """Alpha may be low despite high agreement: chance agreement is high too."""
        dominant = self.dominant
        return dominant is not None and dominant.share >= DOMINANCE_SHARE


@dataclass(frozen=True)
class RaterResult:
    """One rater against the benchmark; the figures are None without a benchmark."""

    rater_id: int  # CalibrationRater.id
    user_id: int
    name: str
    email: str
    partner_id: int | None
    group_key: str
    group_label: str
    submitted: int
    n: int  # conversations scored by both the rater and the benchmark
    mean_absolute_deviation: float | None
    signed_bias: float | None
    share_within_tolerance: float | None
    match_rate: float | None
    bias_label: str | None  # "lenient", "strict" or "on target"


@dataclass(frozen=True)
class GroupResult:
    key: str  # "all", "in_house" or "partner:<id>"
    label: str
    partner_id: int | None
    raters: int  # raters with at least one submitted rating
    agreement: Agreement  # on the total score, among the group's raters
    mean_absolute_deviation: float | None
    signed_bias: float | None
    share_within_tolerance: float | None
    match_rate: float | None
    # Mean signed deviation (rater - benchmark) minus in-house's; None for in-house itself.
    difference: stats.GroupDifference | None


@dataclass(frozen=True)
class GroupFigure:
    group_key: str
    label: str
    value: float | None


@dataclass(frozen=True)
class DivergenceRow:
    """A criterion the groups read differently; ``gap`` is the largest gap to in-house."""

    criterion_id: int
    key: str
    title: str
    gap: float
    figures: tuple[GroupFigure, ...]


@dataclass(frozen=True)
class HeatCell:
    rater_id: int
    share: float | None  # share of the rater's answers that differ from the reference
    compared: int

    @property
    def level(self) -> int | None:
        return None if self.share is None else round(self.share * 10)

    @property
    def css_class(self) -> str:
        return "heat-none" if self.level is None else f"heat-{self.level}"


@dataclass(frozen=True)
class HeatColumn:
    rater_id: int
    name: str
    group_label: str


@dataclass(frozen=True)
class HeatRow:
    criterion_id: int
    key: str
    title: str
    cells: tuple[HeatCell, ...]  # aligned with Heatmap.columns


@dataclass(frozen=True)
class Heatmap:
    reference: str  # "benchmark", or "majority" (per conversation) without one
    columns: tuple[HeatColumn, ...]
    rows: tuple[HeatRow, ...]

    def only(self, rater_ids: set[int]) -> Heatmap:
        keep = [i for i, column in enumerate(self.columns) if column.rater_id in rater_ids]
        return Heatmap(
            self.reference,
            tuple(self.columns[i] for i in keep),
            tuple(replace(row, cells=tuple(row.cells[i] for i in keep)) for row in self.rows),
        )


@dataclass(frozen=True)
class SessionResults:
    session_id: int
    tolerance: float
    conversations: int
    has_benchmark: bool
    overall: Agreement  # total scores, interval level
    criteria: tuple[CriterionResult, ...]
    raters: tuple[RaterResult, ...]
    all_raters: GroupResult
    groups: tuple[GroupResult, ...]  # in-house first, then partners by name
    divergence_measure: str  # "match rate" with a benchmark, else "mean answer"
    divergence: tuple[DivergenceRow, ...]  # largest gap first
    heatmap: Heatmap


# Loading --------------------------------------------------------------------------------------


@dataclass
class _Data:
    criteria: list[Criterion]
    conversation_ids: list[int]
    raters: list[CalibrationRater]
    scores: dict[tuple[int, int], float | None]  # (user, conversation) -> total score
    answers: dict[tuple[int, int, int], str]  # (user, conversation, criterion) -> value
    bench_scores: dict[int, float | None]
    bench_answers: dict[tuple[int, int], str]
    has_benchmark: bool


def _label(value: str | None) -> str | None:
    """Stored answers compared as labels: trimmed, lower case, numbers without leading zeros."""
    text = (value or "").strip().lower()
    if not text:
        return None
    return str(int(text)) if text.isdigit() else text


def _load(db_session: Session, calibration: CalibrationSession) -> _Data:
    """Everything in a fixed handful of queries, whatever the size of the session."""
    version = db_session.scalars(
        select(ScorecardVersion)
        .where(ScorecardVersion.id == calibration.scorecard_version_id)
        .options(selectinload(ScorecardVersion.sections).selectinload(ScorecardSection.criteria))
    ).one()
    conversation_ids = list(
        db_session.scalars(
            select(CalibrationItem.conversation_id)
            .where(CalibrationItem.session_id == calibration.id)
            .order_by(CalibrationItem.position, CalibrationItem.id)
        )
    )
    raters = list(
        db_session.scalars(
            select(CalibrationRater)
            .where(CalibrationRater.session_id == calibration.id)
            .options(joinedload(CalibrationRater.user), joinedload(CalibrationRater.partner))
            .order_by(CalibrationRater.id)
        )
    )
    rows = db_session.execute(
        select(
            CalibrationRating.rater_id,
            CalibrationRating.is_benchmark,
            CalibrationRating.conversation_id,
            CalibrationRating.score,
            CalibrationAnswer.criterion_id,
            CalibrationAnswer.value,
        )
        .outerjoin(CalibrationAnswer, CalibrationAnswer.rating_id == CalibrationRating.id)
        .where(
            CalibrationRating.session_id == calibration.id,
            CalibrationRating.status == RatingStatus.SUBMITTED,
        )
    ).all()
    rater_users = {rater.user_id for rater in raters}
    items = set(conversation_ids)
    data = _Data(ordered_criteria(version), conversation_ids, raters, {}, {}, {}, {}, False)
    for rater_id, is_benchmark, conversation_id, score, criterion_id, value in rows:
        if conversation_id not in items:
            continue
        label = _label(value)
        if is_benchmark:
            data.has_benchmark = True
            data.bench_scores[conversation_id] = score
            if criterion_id is not None and label is not None:
                data.bench_answers[(conversation_id, criterion_id)] = label
        elif rater_id in rater_users:
            data.scores[(rater_id, conversation_id)] = score
            if criterion_id is not None and label is not None:
                data.answers[(rater_id, conversation_id, criterion_id)] = label
    return data


# Criteria -------------------------------------------------------------------------------------


def _cell(criterion: Criterion, label: str | None) -> Hashable | None:
    """The value of an answer in the criterion's ratings matrix (None: missing)."""
    if label is None:
        return None
    if criterion.kind == CriterionKind.YES_NO:
        return label
    return int(label) if label.isdigit() else None  # N/A is missing on scales and points


def _categories(criterion: Criterion) -> list[Hashable]:
    """All possible answers, for Gwet's AC1 (scales and points as nominal labels)."""
    if criterion.kind == CriterionKind.YES_NO:
        return ["yes", "no", NA] if criterion.allow_na else ["yes", "no"]
    if criterion.kind == CriterionKind.SCALE:
        return list(range(1, criterion.scale_max + 1))
    return list(range(criterion.max_points + 1))


def _value_label(criterion: Criterion, value: str) -> str:
    if value in _YES_NO_LABELS:
        return _YES_NO_LABELS[value]
    labels = criterion.scale_labels or []
    if criterion.kind == CriterionKind.SCALE and value.isdigit() and 1 <= int(value) <= len(labels):
        return f"{value} · {labels[int(value) - 1]}"
    return value


def _agreement(ratings: Sequence[Sequence[Hashable | None]], level: str, n_boot: int) -> Agreement:
    alpha = stats.krippendorff_alpha(ratings, level)
    ci = stats.bootstrap_alpha_ci(ratings, level, n_boot=n_boot) if n_boot > 0 else None
    columns = list(zip(*ratings, strict=True)) if ratings else []
    present = [sum(cell is not None for cell in column) for column in columns]
    return Agreement(
        alpha=alpha,
        ci=ci,
        reading=stats.interpret_alpha(alpha),
        units=sum(count >= 2 for count in present),
        ratings=sum(present),
    )


def _criterion_result(data: _Data, criterion: Criterion, n_boot: int) -> CriterionResult:
    level = LEVEL_OF_KIND[criterion.kind]
    ratings = [
        [
            _cell(criterion, data.answers.get((rater.user_id, conversation_id, criterion.id)))
            for conversation_id in data.conversation_ids
        ]
        for rater in data.raters
    ]
    observed = {cell for row in ratings for cell in row if cell is not None}
    categories = list(dict.fromkeys([*_categories(criterion), *observed]))
    counts = Counter(
        value
        for (_, _, criterion_id), value in data.answers.items()
        if criterion_id == criterion.id
    )
    total = sum(counts.values())
    order = {str(category): i for i, category in enumerate(_categories(criterion))}
    distribution = tuple(
        ValueCount(value, _value_label(criterion, value), count, count / total)
        for value, count in sorted(counts.items(), key=lambda item: (order.get(item[0], 99), item))
    )
    return CriterionResult(
        criterion_id=criterion.id,
        key=criterion.key,
        title=criterion.title,
        kind=criterion.kind,
        level=level,
        agreement=_agreement(ratings, level, n_boot),
        percent_agreement=stats.percent_agreement(ratings),
        ac1=stats.gwet_ac1(ratings, categories=categories),
        distribution=distribution,
    )


# Raters and groups ----------------------------------------------------------------------------


def _group_of(rater: CalibrationRater) -> tuple[str, str]:
    if rater.partner_id is None:
        return GROUP_IN_HOUSE, GROUP_LABELS[GROUP_IN_HOUSE]
    name = rater.partner.name if rater.partner else f"Partner {rater.partner_id}"
    return partner_group_key(rater.partner_id), name


def bias_label(bias: float | None, tolerance: float) -> str | None:
    """Within half the tolerance of the benchmark on average is on target."""
    if bias is None:
        return None
    if abs(bias) <= tolerance / 2:
        return "on target"
    return "lenient" if bias > 0 else "strict"


def _rater_answers(data: _Data, users: set[int]) -> dict[tuple[int, int, int], str]:
    return {key: value for key, value in data.answers.items() if key[0] in users}


def _versus_benchmark(
    data: _Data, users: set[int], tolerance: float
) -> tuple[stats.RaterDeviation, float | None, list[float]]:
    """Deviation, match rate and the signed deviation of each rating, pooled over ``users``."""
    scores = {key: score for key, score in data.scores.items() if key[0] in users}
    benchmark = {key: data.bench_scores.get(key[1]) for key in scores}
    deviation = stats.rater_deviation(scores, benchmark, tolerance)
    answers = _rater_answers(data, users)
    bench_answers = {
        key: data.bench_answers[key[1:]] for key in answers if key[1:] in data.bench_answers
    }
    signed = [
        float(score) - float(gold)
        for key, score in scores.items()
        if score is not None and (gold := benchmark[key]) is not None
    ]
    return deviation, stats.criterion_match_rate(answers, bench_answers), signed


def _rater_result(data: _Data, rater: CalibrationRater, tolerance: float) -> RaterResult:
    key, label = _group_of(rater)
    submitted = sum(1 for user_id, _ in data.scores if user_id == rater.user_id)
    deviation, match_rate = stats.RaterDeviation(0, None, None, None), None
    if data.has_benchmark:
        deviation, match_rate, _ = _versus_benchmark(data, {rater.user_id}, tolerance)
    return RaterResult(
        rater_id=rater.id,
        user_id=rater.user_id,
        name=rater.user.name,
        email=rater.user.email,
        partner_id=rater.partner_id,
        group_key=key,
        group_label=label,
        submitted=submitted,
        n=deviation.n,
        mean_absolute_deviation=deviation.mean_absolute_deviation,
        signed_bias=deviation.signed_bias,
        share_within_tolerance=deviation.share_within_tolerance,
        match_rate=match_rate,
        bias_label=bias_label(deviation.signed_bias, tolerance),
    )


def _score_matrix(data: _Data, raters: Iterable[CalibrationRater]) -> list[list[float | None]]:
    return [
        [
            data.scores.get((rater.user_id, conversation_id))
            for conversation_id in data.conversation_ids
        ]
        for rater in raters
    ]


def _group_result(
    data: _Data,
    key: str,
    label: str,
    raters: list[CalibrationRater],
    tolerance: float,
    reference: list[float] | None,
    n_boot: int,
) -> GroupResult:
    users = {rater.user_id for rater in raters}
    deviation, match_rate = stats.RaterDeviation(0, None, None, None), None
    signed: list[float] = []
    if data.has_benchmark:
        deviation, match_rate, signed = _versus_benchmark(data, users, tolerance)
    difference = None if reference is None else _difference(signed, reference, n_boot)
    return GroupResult(
        key=key,
        label=label,
        partner_id=raters[0].partner_id if key.startswith("partner:") else None,
        raters=len({user_id for user_id, _ in data.scores if user_id in users}),
        agreement=_agreement(_score_matrix(data, raters), "interval", n_boot),
        mean_absolute_deviation=deviation.mean_absolute_deviation,
        signed_bias=deviation.signed_bias,
        share_within_tolerance=deviation.share_within_tolerance,
        match_rate=match_rate,
        difference=difference,
    )


def _difference(group: list[float], reference: list[float], n_boot: int) -> stats.GroupDifference:
    if n_boot > 0:
        return stats.group_difference(group, reference, n_boot=n_boot)
    if not group or not reference:
        return stats.GroupDifference(None, None, None, len(group), len(reference))
    gap = sum(group) / len(group) - sum(reference) / len(reference)
    return stats.GroupDifference(gap, None, None, len(group), len(reference))


def _groups(
    data: _Data, tolerance: float, n_boot: int
) -> tuple[GroupResult, list[GroupResult], dict[str, set[int]]]:
    members: dict[str, list[CalibrationRater]] = defaultdict(list)
    labels: dict[str, str] = {}
    for rater in data.raters:
        key, label = _group_of(rater)
        members[key].append(rater)
        labels[key] = label
    keys = sorted(members, key=lambda key: (key != GROUP_IN_HOUSE, labels[key].lower(), key))
    everyone = _group_result(
        data, GROUP_ALL, GROUP_LABELS[GROUP_ALL], data.raters, tolerance, None, n_boot
    )
    users = {key: {rater.user_id for rater in raters} for key, raters in members.items()}
    in_house: list[float] | None = None
    if GROUP_IN_HOUSE in members and data.has_benchmark:
        in_house = _versus_benchmark(data, users[GROUP_IN_HOUSE], tolerance)[2]
    groups = [
        _group_result(
            data,
            key,
            labels[key],
            members[key],
            tolerance,
            None if key == GROUP_IN_HOUSE else in_house,
            n_boot,
        )
        for key in keys
    ]
    return everyone, groups, users


# Where policy is read differently, and the heatmap ----------------------------------------------


def _fraction(criterion: Criterion, label: str) -> float | None:
    answer: str | int = int(label) if label.isdigit() else label
    try:
        return answer_fraction(criterion.rule(), answer)
    except AnswerError:
        return None


def _criterion_figure(data: _Data, criterion: Criterion, users: set[int]) -> float | None:
    """Match rate against the benchmark, or without one the mean answer (0-1, N/A left out)."""
    answers = {
        key: value for key, value in _rater_answers(data, users).items() if key[2] == criterion.id
    }
    if data.has_benchmark:
        gold = {
            key: data.bench_answers[key[1:]] for key in answers if key[1:] in data.bench_answers
        }
        return stats.criterion_match_rate(answers, gold)
    fractions = [f for label in answers.values() if (f := _fraction(criterion, label)) is not None]
    return sum(fractions) / len(fractions) if fractions else None


def _divergence(
    data: _Data, groups: list[GroupResult], users: dict[str, set[int]]
) -> list[DivergenceRow]:
    figures = {
        criterion.id: {
            group.key: _criterion_figure(data, criterion, users[group.key]) for group in groups
        }
        for criterion in data.criteria
    }
    criteria = {criterion.id: criterion for criterion in data.criteria}
    rows = []
    for criterion_id, gap in stats.divergence_ranking(figures, GROUP_IN_HOUSE):
        if gap <= 1e-12:
            continue  # every group reads it alike: nothing to discuss
        criterion = criteria[criterion_id]
        shown = tuple(
            GroupFigure(group.key, group.label, figures[criterion_id][group.key])
            for group in groups
        )
        rows.append(DivergenceRow(criterion_id, criterion.key, criterion.title, gap, shown))
    return rows


def _majority(data: _Data) -> dict[tuple[int, int], str]:
    """The most common rater answer per (conversation, criterion); a tie has no majority."""
    tallies: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for (_, conversation_id, criterion_id), value in data.answers.items():
        tallies[(conversation_id, criterion_id)][value] += 1
    majority = {}
    for key, tally in tallies.items():
        top = tally.most_common(2)
        if len(top) == 1 or top[0][1] > top[1][1]:
            majority[key] = top[0][0]
    return majority


def _heatmap(data: _Data, raters: Sequence[RaterResult]) -> Heatmap:
    reference = data.bench_answers if data.has_benchmark else _majority(data)
    columns = tuple(HeatColumn(r.rater_id, r.name, r.group_label) for r in raters)
    rows = []
    for criterion in data.criteria:
        cells = []
        for rater in raters:
            compared = differing = 0
            for conversation_id in data.conversation_ids:
                value = data.answers.get((rater.user_id, conversation_id, criterion.id))
                gold = reference.get((conversation_id, criterion.id))
                if value is None or gold is None:
                    continue
                compared += 1
                differing += value != gold
            share = differing / compared if compared else None
            cells.append(HeatCell(rater.rater_id, share, compared))
        rows.append(HeatRow(criterion.id, criterion.key, criterion.title, tuple(cells)))
    return Heatmap("benchmark" if data.has_benchmark else "majority", columns, tuple(rows))


# The whole session ------------------------------------------------------------------------------


def compute_results(
    db_session: Session, calibration_session: CalibrationSession, *, n_boot: int = 1000
) -> SessionResults:
    """All figures of a session from its submitted ratings (drafts never count).

    :param n_boot: bootstrap resamples for the intervals (seeded, so reproducible); 0 skips
        the intervals, e.g. when only the stored headline figures are needed.
    """
    data = _load(db_session, calibration_session)
    tolerance = calibration_session.tolerance
    raters = [_rater_result(data, rater, tolerance) for rater in data.raters]
    everyone, groups, users = _groups(data, tolerance, n_boot)
    return SessionResults(
        session_id=calibration_session.id,
        tolerance=tolerance,
        conversations=len(data.conversation_ids),
        has_benchmark=data.has_benchmark,
        overall=everyone.agreement,
        criteria=tuple(_criterion_result(data, c, n_boot) for c in data.criteria),
        raters=tuple(raters),
        all_raters=everyone,
        groups=tuple(groups),
        divergence_measure="match rate" if data.has_benchmark else "mean answer",
        divergence=tuple(_divergence(data, groups, users)),
        heatmap=_heatmap(data, raters),
    )


def visible_to(
    results: SessionResults,
    viewer_partner_id: int | None,
    viewer_user_id: int | None,
    can_see_all: bool,
) -> SessionResults:
    """A copy without the raters and groups the viewer may not see (see ``access``).

    ``can_see_all`` (in-house staff) keeps everything. Otherwise the viewer's own row stays,
    and a partner user also keeps their partner's raters; of the groups, a partner user keeps
    all raters, in-house and their own partner, and the divergence list is recomputed against
    in-house from those groups alone, so no other partner's figure shows even as a gap.
    """
    if can_see_all:
        return results

    def shown(rater: RaterResult) -> bool:
        if viewer_partner_id is not None and rater.partner_id == viewer_partner_id:
            return True
        return viewer_user_id is not None and rater.user_id == viewer_user_id

    raters = tuple(rater for rater in results.raters if shown(rater))
    heatmap = results.heatmap.only({rater.rater_id for rater in raters})
    if viewer_partner_id is None:
        return replace(results, raters=raters, heatmap=heatmap)
    allowed = {"all", "in_house", partner_group_key(viewer_partner_id)}
    groups = tuple(group for group in results.groups if group.key in allowed)
    divergence: list[DivergenceRow] = []
    for row in results.divergence:
        figures = tuple(figure for figure in row.figures if figure.group_key in allowed)
        reference = next((f.value for f in figures if f.group_key == "in_house"), None)
        if reference is None:
            continue
        gaps = [
            abs(figure.value - reference)
            for figure in figures
            if figure.group_key not in {"all", "in_house"} and figure.value is not None
        ]
        if gaps:
            divergence.append(replace(row, figures=figures, gap=max(gaps)))
    divergence.sort(key=lambda row: row.gap, reverse=True)
    return replace(
        results, raters=raters, heatmap=heatmap, groups=groups, divergence=tuple(divergence)
    )
