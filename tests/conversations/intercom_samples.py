"""Intercom conversations as the export has them, and parsing one, for tests of any feature."""

from __future__ import annotations

import io
import json
from typing import Any

from qa_app.conversations.formats.intercom import parse_intercom
from qa_app.conversations.records import ParsedItem

T0 = 1788336000  # 2026-09-02T08:00:00Z


def conversation(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "conversation",
        "id": "77",
        "created_at": T0,
        "state": "open",
        "admin_assignee_id": None,
        "source": {
            "type": "conversation",
            "delivered_as": "customer_initiated",
            "body": "<p>Hello</p>",
            "author": {"type": "user", "id": "u1", "name": "Sam"},
        },
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": [
                {
                    "part_type": "comment",
                    "body": "<p>Hi Sam</p>",
                    "created_at": T0 + 60,
                    "author": {"type": "admin", "id": "9", "name": "Ana"},
                },
            ],
        },
    }
    for key, value in changes.items():
        data[key] = value
    return data


def parse_one(data: dict[str, Any]) -> ParsedItem:
    items = list(parse_intercom(io.StringIO(json.dumps(data) + "\n")))
    assert len(items) == 1
    return items[0]
