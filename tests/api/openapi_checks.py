"""Checks of real API answers against the OpenAPI document, for any test of an endpoint."""

from __future__ import annotations

from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator


def load_document(app: Flask) -> dict[str, Any]:
    """The document the app serves (generated from the endpoints' models)."""
    loaded: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
    return loaded


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow local $refs to the schema itself."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    response = resolve(document, document["paths"][path][method]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def check_answer(document: dict[str, Any], schema: dict[str, Any], answer: Any) -> None:
    """The answer has every required key, no undocumented key, and validates in full."""
    target = resolve(document, schema)
    assert set(target["required"]) <= set(answer), "documented as required but missing"
    assert set(answer) <= set(target["properties"]), "answered but not documented"
    root = {"components": document["components"], **schema}
    errors = sorted(Draft202012Validator(root).iter_errors(answer), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
