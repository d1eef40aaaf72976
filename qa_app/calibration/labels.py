"""How raters, groups and partners are named to a viewer: the one rule for every page, export
and API answer of calibration.

In-house staff see every name. A partner user sees their own partner's name, "In-house", and
the names of the raters they may see (``access.rater_shown``). Anything else of another partner
is "Another partner" / "a rater of another partner": the same words for every other partner, so
nothing (a name, an id, a numbered label) tells one hidden partner from another.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from qa_app.calibration.access import rater_shown, sees_every_rater
from qa_app.calibration.models import CalibrationRater
from qa_app.calibration.results import (
    GROUP_LABELS,
    Heatmap,
    RaterResult,
    SessionResults,
    visible_to,
)
from qa_app.calibration.trends import Trends

IN_HOUSE: Final = GROUP_LABELS["in_house"]
OTHER_PARTNER: Final = "Another partner"
HIDDEN_IN_HOUSE_RATER: Final = "A rater (in-house)"
HIDDEN_PARTNER_RATER: Final = "A rater of another partner"
OTHER_PARTNER_KEY: Final = "other_partner"
_PARTNER_PREFIX: Final = "partner:"


def sees_partner(viewer: Any, partner_id: int | None) -> bool:
    """Whether ``viewer`` may read which partner ``partner_id`` is (None: in-house, always)."""
    if partner_id is None or sees_every_rater(viewer):
        return True
    own = getattr(viewer, "partner_id", None)
    return own is not None and own == partner_id


def partner_label(viewer: Any, partner_id: int | None, name: str | None) -> str:
    """ "In-house", the partner's name, or "Another partner" when the viewer may not know it."""
    if partner_id is None:
        return IN_HOUSE
    if not sees_partner(viewer, partner_id):
        return OTHER_PARTNER
    return name or f"Partner {partner_id}"


def group_key(viewer: Any, key: str) -> str:
    """A group's key ("all", "in_house", "partner:<id>"), without another partner's id."""
    partner_id = _partner_of_key(key)
    if partner_id is not None and not sees_partner(viewer, partner_id):
        return OTHER_PARTNER_KEY
    return key


def group_label(viewer: Any, key: str, label: str) -> str:
    """The label of a group of raters by its key; another partner's is "Another partner"."""
    partner_id = _partner_of_key(key)
    if partner_id is None:
        return label
    return partner_label(viewer, partner_id, label)


def rater_group(viewer: Any, rater: CalibrationRater) -> str:
    """The group of an invited rater, as the viewer may read it."""
    return partner_label(viewer, rater.partner_id, rater.partner.name if rater.partner else None)


def rater_label(viewer: Any, rater: CalibrationRater) -> str:
    """A rater's name if the viewer may see them; else who they are, without their partner."""
    if rater_shown(viewer, rater):
        return rater.user.name
    return HIDDEN_IN_HOUSE_RATER if rater.partner_id is None else HIDDEN_PARTNER_RATER


def _partner_of_key(key: str) -> int | None:
    if not key.startswith(_PARTNER_PREFIX):
        return None
    suffix = key.removeprefix(_PARTNER_PREFIX)
    return int(suffix) if suffix.isdigit() else None


# Results ----------------------------------------------------------------------------------------


def _rater(viewer: Any, rater: RaterResult) -> RaterResult:
    return replace(
        rater,
        group_key=group_key(viewer, rater.group_key),
        group_label=partner_label(viewer, rater.partner_id, rater.group_label),
    )


def _heatmap(viewer: Any, heatmap: Heatmap, raters: dict[int, RaterResult]) -> Heatmap:
    columns = []
    for column in heatmap.columns:
        rater = raters.get(column.rater_id)
        if rater is None:  # never kept by visible_to; named like a hidden rater all the same
            columns.append(replace(column, name=HIDDEN_PARTNER_RATER, group_label=OTHER_PARTNER))
        else:
            columns.append(replace(column, name=rater.name, group_label=rater.group_label))
    return replace(heatmap, columns=tuple(columns))


def results_for(viewer: Any, results: SessionResults) -> SessionResults:
    """The results as ``viewer`` may read them: cut by ``results.visible_to``, and every rater,
    group and figure labelled by the rule above (pages, CSV and API all go through this)."""
    shown = visible_to(
        results,
        getattr(viewer, "partner_id", None),
        getattr(viewer, "id", None),
        can_see_all=sees_every_rater(viewer),
    )
    raters = tuple(_rater(viewer, rater) for rater in shown.raters)
    groups = tuple(
        replace(
            group,
            key=group_key(viewer, group.key),
            label=group_label(viewer, group.key, group.label),
            partner_id=group.partner_id if sees_partner(viewer, group.partner_id) else None,
        )
        for group in shown.groups
    )
    divergence = tuple(
        replace(
            row,
            figures=tuple(
                replace(
                    figure,
                    group_key=group_key(viewer, figure.group_key),
                    label=group_label(viewer, figure.group_key, figure.label),
                )
                for figure in row.figures
            ),
        )
        for row in shown.divergence
    )
    by_id = {rater.rater_id: rater for rater in raters}
    return replace(
        shown,
        raters=raters,
        groups=groups,
        divergence=divergence,
        heatmap=_heatmap(viewer, shown.heatmap, by_id),
    )


def trends_for(viewer: Any, trends: Trends) -> Trends:
    """Trends with each series labelled by the rule (``trends(partner_id=...)`` already leaves
    out other partners' series for partner users)."""
    series = tuple(
        replace(
            line,
            group_key=group_key(viewer, line.group_key),
            label=group_label(viewer, line.group_key, line.label),
        )
        for line in trends.series
    )
    return replace(trends, series=series)
