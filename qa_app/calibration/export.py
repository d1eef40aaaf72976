"""A session's results as CSV, in one long table that spreadsheets and BI tools can pivot.

Columns: ``table, criterion, rater, group, metric, value``. ``table`` says which part of the
results page a row comes from:

* ``session``: conversations, tolerance, benchmark, and alpha on the total score
  (``alpha``, ``alpha_ci_low``, ``alpha_ci_high``, ``reading``, ``units``, ``ratings``);
* ``criterion``: per criterion (its key), the same agreement metrics plus
  ``percent_agreement``, ``ac1``, ``one_answer_dominates`` and ``count:<answer>``;
* ``group``: per group (``All raters``, ``In-house``, partner names): ``raters``, ``alpha``,
  ``mean_absolute_deviation``, ``signed_bias``, ``share_within_tolerance``, ``match_rate`` and
  ``difference_from_in_house`` with ``difference_ci_low``/``difference_ci_high``;
* ``divergence``: per criterion, ``gap`` and each group's figure (``match_rate`` or
  ``mean_answer``), largest gap first;
* ``rater``: per rater (name) the rater's figures against the benchmark and ``bias``;
* ``heatmap``: per criterion and rater, ``disagreement`` (share of answers differing).

Empty values are figures that cannot be computed. Export what the viewer may see: pass the
results through :func:`qa_app.calibration.results.visible_to` first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from qa_app.calibration.results import Agreement, SessionResults

HEADER = ("table", "criterion", "rater", "group", "metric", "value")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | float | int | bool | None
Row = tuple[str, str, str, str, str, Cell]


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text from users (OWASP: prefix a single quote)."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _value(value: Cell) -> str:
    """Figures we computed are written as numbers (a negative bias keeps its minus sign);
    text is neutralised, since names and titles come from users."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 6))
    return csv_safe(value)


def _agreement(table: str, criterion: str, group: str, agreement: Agreement) -> Iterator[Row]:
    low, high = agreement.ci or (None, None)
    yield table, criterion, "", group, "alpha", agreement.alpha
    yield table, criterion, "", group, "alpha_ci_low", low
    yield table, criterion, "", group, "alpha_ci_high", high
    yield table, criterion, "", group, "reading", agreement.reading
    yield table, criterion, "", group, "units", agreement.units
    yield table, criterion, "", group, "ratings", agreement.ratings


def rows(results: SessionResults) -> Iterator[Row]:
    """The long-format rows, without the header."""
    yield "session", "", "", "", "conversations", results.conversations
    yield "session", "", "", "", "tolerance", results.tolerance
    yield "session", "", "", "", "benchmark", results.has_benchmark
    yield from _agreement("session", "", "", results.overall)
    for criterion in results.criteria:
        yield from _agreement("criterion", criterion.key, "", criterion.agreement)
        yield "criterion", criterion.key, "", "", "level", criterion.level
        yield "criterion", criterion.key, "", "", "percent_agreement", criterion.percent_agreement
        yield "criterion", criterion.key, "", "", "ac1", criterion.ac1
        dominates = criterion.one_answer_dominates
        yield "criterion", criterion.key, "", "", "one_answer_dominates", dominates
        for count in criterion.distribution:
            yield "criterion", criterion.key, "", "", f"count:{count.value}", count.count
    for group in (results.all_raters, *results.groups):
        yield "group", "", "", group.label, "raters", group.raters
        yield "group", "", "", group.label, "alpha", group.agreement.alpha
        yield "group", "", "", group.label, "reading", group.agreement.reading
        for metric in (
            "mean_absolute_deviation",
            "signed_bias",
            "share_within_tolerance",
            "match_rate",
        ):
            yield "group", "", "", group.label, metric, getattr(group, metric)
        if group.difference is not None:
            difference = group.difference
            yield "group", "", "", group.label, "difference_from_in_house", difference.difference
            yield "group", "", "", group.label, "difference_ci_low", difference.ci_low
            yield "group", "", "", group.label, "difference_ci_high", difference.ci_high
    measure = results.divergence_measure.replace(" ", "_")
    for row in results.divergence:
        yield "divergence", row.key, "", "", "gap", row.gap
        for figure in row.figures:
            yield "divergence", row.key, "", figure.label, measure, figure.value
    for rater in results.raters:
        for metric in (
            "submitted",
            "n",
            "mean_absolute_deviation",
            "signed_bias",
            "share_within_tolerance",
            "match_rate",
        ):
            yield "rater", "", rater.name, rater.group_label, metric, getattr(rater, metric)
        yield "rater", "", rater.name, rater.group_label, "bias", rater.bias_label
    columns = results.heatmap.columns
    for heat_row in results.heatmap.rows:
        for column, cell in zip(columns, heat_row.cells, strict=True):
            yield (
                "heatmap",
                heat_row.key,
                column.name,
                column.group_label,
                "disagreement",
                cell.share,
            )


def results_csv(results: SessionResults) -> str:
    """The whole CSV as text (a session's results are a few thousand rows at most)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows(results):
        writer.writerow([_value(cell) for cell in row])
    return buffer.getvalue()
