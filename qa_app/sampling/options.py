"""Sampling plan filters and params: their checks, defaults and descriptions.

What each key means is documented in qa_app/sampling/engine.py, which applies them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from qa_app.conversations.field_checks import normalise_tags
from qa_app.conversations.records import CHANNELS, MAX_TAG_LENGTH
from qa_app.sampling.models import Strategy

MAX_SAMPLE_SIZE = 10_000
MAX_PER_AGENT = 1_000
MAX_WINDOW_DAYS = 366
MAX_TAGS = 20
MAX_HANDLE_SECONDS = 7 * 24 * 3600
MAX_RISK_WEIGHT = 100.0
IN_HOUSE = 0  # the partner id that stands for teams without a partner
STRATIFY_BY = {"team": "Team", "channel": "Channel"}

RISK_DEFAULTS: dict[str, Any] = {
    "low_csat_max": 2,
    "weight_low_csat": 4.0,
    "long_handle_seconds": 1800,
    "weight_long_handle": 2.0,
    "escalation_tags": ["escalated", "escalation"],
    "weight_escalation": 3.0,
    "reopen_tags": ["reopened"],
    "weight_reopen": 2.0,
}
# The risks, in the order of their bit in a risk-weighted stratum: (label, weight key).
RISKS = (
    ("Low CSAT", "weight_low_csat"),
    ("Long handle time", "weight_long_handle"),
    ("Escalated", "weight_escalation"),
    ("Reopened", "weight_reopen"),
)
STRATEGY_LABELS = {
    Strategy.UNIFORM: "uniform random",
    Strategy.QUOTA: "quota per agent",
    Strategy.STRATIFIED: "proportional stratified",
    Strategy.RISK: "risk-weighted",
}
PARAM_KEYS = {
    Strategy.UNIFORM: ("size",),
    Strategy.QUOTA: ("per_agent",),
    Strategy.STRATIFIED: ("size", "stratify_by"),
    Strategy.RISK: ("size", *RISK_DEFAULTS),
}
FILTER_KEYS = (
    "partner_ids",
    "team_ids",
    "agent_ids",
    "channels",
    "window_days",
    "csat_min",
    "csat_max",
    "include_unrated",
    "tags",
    "min_handle_seconds",
)


class PlanConfigError(ValueError):
    """Filters or params that the engine cannot use; the message says which and why."""


# Checking filters and params --------------------------------------------------------------------


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanConfigError(f"{name} must be a whole number, got {value!r}.")
    if not low <= value <= high:
        raise PlanConfigError(f"{name} must be from {low:,} to {high:,}, got {value:,}.")
    return value


def _number(value: Any, name: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanConfigError(f"{name} must be a number, got {value!r}.")
    if not 0 <= value <= high:
        raise PlanConfigError(f"{name} must be from 0 to {high:g}, got {value:g}.")
    return float(value)


def _ids(value: Any, name: str, low: int = 1) -> list[int]:
    if not isinstance(value, list | tuple):
        raise PlanConfigError(f"{name} must be a list of ids.")
    return sorted({_integer(item, name, low, 2**31 - 1) for item in value})


def _tags(value: Any, name: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(tag, str) for tag in value):
        raise PlanConfigError(f"{name} must be a list of tags.")
    tags = list(normalise_tags(value))
    if len(tags) > MAX_TAGS:
        raise PlanConfigError(f"{name}: at most {MAX_TAGS} tags.")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise PlanConfigError(f"{name}: a tag has at most {MAX_TAG_LENGTH} characters.")
    return tags


def normalise_filters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``raw`` filters and return them in canonical form, empty ones left out."""
    unknown = set(raw) - set(FILTER_KEYS)
    if unknown:
        raise PlanConfigError(f"Unknown filters: {', '.join(sorted(unknown))}.")
    present = {key: value for key, value in raw.items() if value not in (None, "", [], (), False)}
    filters: dict[str, Any] = {}
    for key in ("partner_ids", "team_ids", "agent_ids"):
        if key in present:
            filters[key] = _ids(present[key], key, low=IN_HOUSE if key == "partner_ids" else 1)
    if "channels" in present:
        channels = present["channels"]
        if not isinstance(channels, list | tuple) or not set(channels) <= set(CHANNELS):
            raise PlanConfigError(f"channels must be some of {', '.join(CHANNELS)}.")
        filters["channels"] = [channel for channel in CHANNELS if channel in channels]
    if "window_days" in present:
        filters["window_days"] = _integer(present["window_days"], "window_days", 1, MAX_WINDOW_DAYS)
    for key in ("csat_min", "csat_max"):
        if key in present:
            filters[key] = _integer(present[key], key, 1, 5)
    if filters.get("csat_min", 1) > filters.get("csat_max", 5):
        raise PlanConfigError("csat_min must not be above csat_max.")
    if present.get("include_unrated") is True and ("csat_min" in filters or "csat_max" in filters):
        filters["include_unrated"] = True
    if "tags" in present:
        filters["tags"] = _tags(present["tags"], "tags")
    if "min_handle_seconds" in present:
        filters["min_handle_seconds"] = _integer(
            present["min_handle_seconds"], "min_handle_seconds", 1, MAX_HANDLE_SECONDS
        )
    return filters


def normalise_params(strategy: Strategy, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check the strategy's params; other strategies' keys are dropped, risk defaults filled in."""
    known = {key for keys in PARAM_KEYS.values() for key in keys}
    unknown = set(raw) - known
    if unknown:
        raise PlanConfigError(f"Unknown parameters: {', '.join(sorted(unknown))}.")
    params: dict[str, Any] = {}
    if "size" in PARAM_KEYS[strategy]:
        if raw.get("size") is None:
            raise PlanConfigError("This strategy needs a sample size.")
        params["size"] = _integer(raw["size"], "size", 1, MAX_SAMPLE_SIZE)
    if strategy == Strategy.QUOTA:
        if raw.get("per_agent") is None:
            raise PlanConfigError("A quota per agent needs the number of conversations per agent.")
        params["per_agent"] = _integer(raw["per_agent"], "per_agent", 1, MAX_PER_AGENT)
    if strategy == Strategy.STRATIFIED:
        if raw.get("stratify_by") not in STRATIFY_BY:
            raise PlanConfigError("stratify_by must be 'team' or 'channel'.")
        params["stratify_by"] = raw["stratify_by"]
    if strategy == Strategy.RISK:
        merged = {**RISK_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
        params["low_csat_max"] = _integer(merged["low_csat_max"], "low_csat_max", 1, 5)
        params["long_handle_seconds"] = _integer(
            merged["long_handle_seconds"], "long_handle_seconds", 1, MAX_HANDLE_SECONDS
        )
        for key in ("escalation_tags", "reopen_tags"):
            params[key] = _tags(merged[key], key)
        for _label, key in RISKS:
            params[key] = _number(merged[key], key, MAX_RISK_WEIGHT)
    return params


def risk_weight(params: Mapping[str, Any], mask: int) -> float:
    """The weight of a conversation showing the risks whose bits are set in ``mask``."""
    return 1.0 + sum(float(params[key]) for bit, (_, key) in enumerate(RISKS) if mask >> bit & 1)


def risk_label(mask: int) -> str:
    names = [label for bit, (label, _) in enumerate(RISKS) if mask >> bit & 1]
    return " + ".join(names) if names else "No risk factor"


def describe_strategy(strategy: Strategy, params: Mapping[str, Any], unit: str = "period") -> str:
    """The strategy in words, e.g. ``quota per agent: 5/week``."""
    label = STRATEGY_LABELS[strategy]
    if strategy == Strategy.QUOTA:
        return f"{label}: {params.get('per_agent')}/{unit}"
    if strategy == Strategy.STRATIFIED:
        return f"{label} by {params.get('stratify_by')}: {params.get('size')}/{unit}"
    return f"{label}: {params.get('size')}/{unit}"


def format_weight(weight: float) -> str:
    """1.0 -> "1.0", 2.25 -> "2.25": at least one decimal, no float noise."""
    text = f"{weight:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
