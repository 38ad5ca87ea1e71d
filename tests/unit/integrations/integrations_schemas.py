"""Validators for the official Jira schemas vendored with the stand-in, for the payload tests.

Request bodies are checked against the request schema each operation declares in Atlassian's
OpenAPI subset ($refs resolved through a `referencing` registry), rich text against the ADF
JSON Schema with the draft its `$schema` names.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

CONTRACT = Path(__file__).resolve().parents[2] / "jira_standin" / "contract"
OPENAPI_URI = "urn:jira-platform-v3-subset"


def _nullable_to_type(node: Any) -> Any:
    # OpenAPI 3.0's "nullable: true" is JSON Schema's type list with "null".
    if isinstance(node, dict):
        node = {key: _nullable_to_type(value) for key, value in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    return node


@cache
def _openapi() -> dict[str, Any]:
    return json.loads((CONTRACT / "jira-platform-v3.subset.openapi.json").read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    # OpenAPI 3.0 schema objects are (close to) draft-04 JSON Schema.
    contents = {"components": _nullable_to_type(_openapi()["components"])}
    return Registry().with_resource(OPENAPI_URI, Resource(contents=contents, specification=DRAFT4))


@cache
def request_schema_ref(operation_id: str) -> str:
    """The `$ref` of the JSON request body that `operation_id` declares."""
    for item in _openapi()["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    raise KeyError(operation_id)


def request_errors(operation_id: str, body: Any) -> list[str]:
    """Every way `body` breaks the request schema of the operation."""
    schema = {"$ref": OPENAPI_URI + request_schema_ref(operation_id)}
    validator = jsonschema.Draft4Validator(schema, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


@cache
def _adf_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((CONTRACT / "adf-schema-v1-full.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def adf_errors(document: Any) -> list[str]:
    """Every way `document` is not valid ADF (the best match first, anyOf noise trimmed)."""
    validator = _adf_validator()
    if validator.is_valid(document):
        return []
    best = jsonschema.exceptions.best_match(validator.iter_errors(document))
    return [f"{'/'.join(map(str, best.absolute_path))}: {best.message}"] if best else ["invalid ADF"]
