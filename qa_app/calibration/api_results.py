"""The answer of /api/v1/calibration/sessions/<id>/results: agreement, raters, groups, heatmap."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from qa_app.api.models import Answer, one_of_texts
from qa_app.calibration import results as calibration_results
from qa_app.calibration.api_models import RaterGroup, RaterRef
from qa_app.calibration.stats import GroupDifference
from qa_app.scorecards.scoring import CriterionKind

Interval = Annotated[list[float], Field(min_length=2, max_length=2)]


class Agreement(Answer):
    """Krippendorff's alpha with its bootstrap interval."""

    alpha: float | None
    ci: Interval | None
    reading: str
    units: int
    ratings: int


class Difference(Answer):
    value: float | None
    ci: Interval | None
    n_group: int
    n_reference: int


class GroupResult(Answer):
    key: str
    label: str
    partner_id: int | None
    raters: int
    agreement: Agreement
    mean_absolute_deviation: float | None
    signed_bias: float | None
    share_within_tolerance: float | None
    match_rate: float | None
    difference_to_in_house: Difference | None


class AnswerShare(Answer):
    value: str
    label: str
    count: int
    share: float


class CriterionAgreement(Answer):
    criterion: str
    title: str
    kind: CriterionKind
    level: str
    agreement: Agreement
    percent_agreement: float | None
    ac1: float | None
    one_answer_dominates: bool
    distribution: list[AnswerShare]


class RaterResult(Answer):
    rater: RaterRef
    submitted: int
    compared: int
    mean_absolute_deviation: float | None
    signed_bias: float | None
    share_within_tolerance: float | None
    match_rate: float | None
    bias: Annotated[str | None, one_of_texts("lenient", "strict", "on target", nullable=True)]


class GroupFigure(Answer):
    group: str
    label: str
    value: float | None


class DivergenceRow(Answer):
    criterion: str
    title: str
    gap: float
    figures: list[GroupFigure]


class Divergence(Answer):
    measure: Annotated[str, one_of_texts("match rate", "mean answer")]
    rows: list[DivergenceRow]


class HeatmapRater(Answer):
    name: str
    group: str


class HeatmapCell(Answer):
    share_differing: float | None
    compared: int


class HeatmapRow(Answer):
    criterion: str
    title: str
    cells: list[HeatmapCell]


class Heatmap(Answer):
    reference: Annotated[str, one_of_texts("benchmark", "majority")]
    raters: list[HeatmapRater]
    rows: list[HeatmapRow]


class CalibrationResults(Answer):
    session_id: int
    conversations: int
    tolerance: float
    has_benchmark: bool
    overall: Agreement
    criteria: list[CriterionAgreement]
    raters: list[RaterResult]
    all_raters: GroupResult
    groups: list[GroupResult]
    divergence: Divergence
    heatmap: Heatmap


# Building it -------------------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _agreement(agreement: calibration_results.Agreement) -> Agreement:
    return Agreement(
        alpha=_num(agreement.alpha),
        ci=None if agreement.ci is None else [float(bound) for bound in agreement.ci],
        reading=agreement.reading,
        units=agreement.units,
        ratings=agreement.ratings,
    )


def _difference(difference: GroupDifference | None) -> Difference | None:
    if difference is None:
        return None
    interval = None
    if difference.ci_low is not None and difference.ci_high is not None:
        interval = [float(difference.ci_low), float(difference.ci_high)]
    return Difference(
        value=_num(difference.difference),
        ci=interval,
        n_group=difference.n_group,
        n_reference=difference.n_reference,
    )


def _group(group: calibration_results.GroupResult) -> GroupResult:
    return GroupResult(
        key=group.key,
        label=group.label,
        partner_id=group.partner_id,
        raters=group.raters,
        agreement=_agreement(group.agreement),
        mean_absolute_deviation=_num(group.mean_absolute_deviation),
        signed_bias=_num(group.signed_bias),
        share_within_tolerance=_num(group.share_within_tolerance),
        match_rate=_num(group.match_rate),
        difference_to_in_house=_difference(group.difference),
    )


def _criterion(row: calibration_results.CriterionResult) -> CriterionAgreement:
    return CriterionAgreement(
        criterion=row.key,
        title=row.title,
        kind=row.kind,
        level=row.level,
        agreement=_agreement(row.agreement),
        percent_agreement=_num(row.percent_agreement),
        ac1=_num(row.ac1),
        one_answer_dominates=row.one_answer_dominates,
        distribution=[
            AnswerShare(value=c.value, label=c.label, count=c.count, share=c.share)
            for c in row.distribution
        ],
    )


def _rater(rater: calibration_results.RaterResult) -> RaterResult:
    return RaterResult(
        rater=RaterRef(
            id=rater.user_id,
            name=rater.name,
            group=RaterGroup(key=rater.group_key, label=rater.group_label),
        ),
        submitted=rater.submitted,
        compared=rater.n,
        mean_absolute_deviation=_num(rater.mean_absolute_deviation),
        signed_bias=_num(rater.signed_bias),
        share_within_tolerance=_num(rater.share_within_tolerance),
        match_rate=_num(rater.match_rate),
        bias=rater.bias_label,
    )


def _heatmap(heatmap: calibration_results.Heatmap) -> Heatmap:
    return Heatmap(
        reference=heatmap.reference,
        raters=[
            HeatmapRater(name=column.name, group=column.group_label) for column in heatmap.columns
        ],
        rows=[
            HeatmapRow(
                criterion=row.key,
                title=row.title,
                cells=[
                    HeatmapCell(share_differing=_num(cell.share), compared=cell.compared)
                    for cell in row.cells
                ],
            )
            for row in heatmap.rows
        ],
    )


def results_answer(results: calibration_results.SessionResults) -> CalibrationResults:
    return CalibrationResults(
        session_id=results.session_id,
        conversations=results.conversations,
        tolerance=results.tolerance,
        has_benchmark=results.has_benchmark,
        overall=_agreement(results.overall),
        criteria=[_criterion(row) for row in results.criteria],
        raters=[_rater(rater) for rater in results.raters],
        all_raters=_group(results.all_raters),
        groups=[_group(group) for group in results.groups],
        divergence=Divergence(
            measure=results.divergence_measure,
            rows=[
                DivergenceRow(
                    criterion=row.key,
                    title=row.title,
                    gap=float(row.gap),
                    figures=[
                        GroupFigure(group=f.group_key, label=f.label, value=_num(f.value))
                        for f in row.figures
                    ],
                )
                for row in results.divergence
            ],
        ),
        heatmap=_heatmap(results.heatmap),
    )
