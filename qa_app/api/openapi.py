"""/api/v1/openapi.json: the machine-readable description of this API (OpenAPI 3.1).

The document is the hand-written qa_app/api/openapi.json; tests/api/test_openapi.py keeps it in
step with the routes. It needs no token: clients read it to discover the API, and it holds
nothing but what docs/api.md says publicly.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from flask import Response, jsonify

from qa_app.api.blueprint import bp

DOCUMENT = "openapi.json"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, read from the package once per process."""
    document: dict[str, Any] = json.loads(
        files("qa_app.api").joinpath(DOCUMENT).read_text(encoding="utf-8")
    )
    return document


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of /api/v1; deliberately without api_roles: no token needed."""
    return jsonify(openapi_document())
