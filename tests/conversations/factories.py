"""Canonical conversations for tests of any feature: built ones and real ones of the demo file."""

from __future__ import annotations

import gzip
import json
from typing import Any

from qa_app.demo.seed import DEMO_DATA


def demo_lines(count: int) -> list[dict[str, Any]]:
    """The first ``count`` real conversations of the demo file."""
    lines = []
    with gzip.open(DEMO_DATA, "rt", encoding="utf-8") as stream:
        for line in stream:
            lines.append(json.loads(line))
            if len(lines) == count:
                break
    return lines


def conversation(external_id: str, agent: str = "ag-1", **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "external_id": external_id,
        "source": "helpdesk",
        "channel": "chat",
        "agent": {
            "external_id": agent,
            "name": f"Agent {agent}",
            "team": "Tier 1",
            "partner": None,
        },
        "started_at": "2026-10-01T09:00:00+00:00",
        "ended_at": "2026-10-01T09:10:00+00:00",
        "csat": 4,
        "tags": ["billing"],
        "language": "en",
        "messages": [
            {"speaker": "customer", "text": "My invoice 4829103 is wrong."},
            {"speaker": "agent", "text": "Let me check that invoice for you."},
        ],
    }
    value.update(fields)
    return value
