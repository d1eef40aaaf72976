"""The JSON API at /api/v1, authenticated by personal bearer tokens (docs/api.md).

This package is the API's platform: the blueprint, bearer-token auth, errors, query parameters,
models and the generated OpenAPI document. Each feature's endpoints live in its own ``api.py``
and register on the blueprint; create_app imports them (qa_app.api_endpoints).
"""

from qa_app.api import openapi  # noqa: F401  (GET /api/v1/openapi.json)
from qa_app.api.blueprint import bp

__all__ = ["bp"]
