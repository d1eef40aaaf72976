"""Zendesk tickets as the export has them, and parsing one, for tests of any feature."""

from __future__ import annotations

import io
import json
from typing import Any

from qa_app.conversations.formats.zendesk import parse_zendesk
from qa_app.conversations.records import ParsedItem


def ticket(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 1,
        "created_at": "2026-10-01T09:00:00Z",
        "status": "open",
        "requester_id": 10,
        "assignee_id": 20,
        "via": {"channel": "email"},
        "comments": [
            {
                "id": 1,
                "author_id": 10,
                "public": True,
                "plain_body": "Help",
                "created_at": "2026-10-01T09:00:00Z",
            },
            {
                "id": 2,
                "author_id": 20,
                "public": True,
                "plain_body": "Sure",
                "created_at": "2026-10-01T09:05:00Z",
            },
        ],
    }
    data.update(changes)
    return data


def parse_one(data: dict[str, Any]) -> ParsedItem:
    items = list(parse_zendesk(io.StringIO(json.dumps(data) + "\n")))
    assert len(items) == 1
    return items[0]
