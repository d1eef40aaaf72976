"""Web upload steps and canonical JSON Lines conversations, for the tests of any feature."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask.testing import FlaskClient

PREVIEW = "/conversations/import/preview"

COMMIT = "/conversations/import/commit"


def line(external_id: str, **overrides: Any) -> dict[str, Any]:
    """One valid conversation in the canonical format; ``overrides`` replace or drop keys."""
    conversation: dict[str, Any] = {
        "external_id": external_id,
        "source": "shop",
        "channel": "chat",
        "agent": {"external_id": "ag-web-1", "name": "Ana Lima", "team": "Tier 1 Chat"},
        "started_at": "2026-09-01T08:00:00+00:00",
        "ended_at": "2026-09-01T08:10:00+00:00",
        "csat": 4,
        "messages": [
            {"speaker": "customer", "text": f"Where is parcel {external_id}?"},
            {"speaker": "agent", "text": "It ships tomorrow."},
        ],
    }
    for key, value in overrides.items():
        if value is None:
            conversation.pop(key, None)
        else:
            conversation[key] = value
    return conversation


def jsonl(*conversations: dict[str, Any]) -> bytes:
    return "".join(json.dumps(c) + "\n" for c in conversations).encode()


def upload(client: FlaskClient, content: bytes, filename: str, **options: Any) -> Any:
    data: dict[str, Any] = {"format": "", "source": "", "unknown_agents": "create"}
    data.update(options)
    if data.pop("partial", False):
        data["partial"] = "y"
    data["file"] = (io.BytesIO(content), filename)
    return client.post(PREVIEW, data=data, content_type="multipart/form-data")


def token_in(response: Any) -> str:
    found = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "the preview has no upload token"
    return found.group(1)


def commit(client: FlaskClient, token: str, **options: Any) -> Any:
    data: dict[str, Any] = {"token": token, "format": "", "source": "", "unknown_agents": "create"}
    data.update(options)
    if data.pop("partial", False):
        data["partial"] = "y"
    return client.post(COMMIT, data=data)
