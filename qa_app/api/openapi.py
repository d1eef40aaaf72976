"""/api/v1/openapi.json: the machine-readable description of this API (OpenAPI 3.1).

The document is generated from the endpoints' declarations (qa_app.api.spec). It needs no
token: clients read it to discover the API, and it holds nothing but what docs/api.md says
publicly.
"""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.spec import openapi_document


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


@bp.get("/openapi.json")
@endpoint(
    None,
    operation_id="getOpenApi",
    tag="meta",
    answers={200: (OpenApiDocument, "The OpenAPI 3.1 document.")},
)
def openapi() -> OpenApiDocument:
    """This OpenAPI description."""
    return OpenApiDocument(openapi_document())
