"""The official Jira documents the stand-in checks requests against.

Request bodies are validated against the request schema of their operation in Atlassian's
OpenAPI document (the vendored subset in `contract/`), and every rich-text value against the
ADF JSON Schema. Both are validated with `jsonschema`, not by hand.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CONTRACT_DIR = Path(__file__).resolve().parent / "contract"
OPENAPI_FILE = CONTRACT_DIR / "jira-platform-v3.subset.openapi.json"
# Operations the shared subset lacks, extracted from the same full document (SOURCE.md).
EXTRA_OPENAPI_FILES = (CONTRACT_DIR / "jira-platform-v3.users.openapi.json",)
ADF_FILE = CONTRACT_DIR / "adf-schema-v1-full.json"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    body_schema: str | None  # components.schemas name, None when the body is free JSON or absent
    query: tuple[dict[str, Any], ...] = ()  # the operation's query parameters, as the document declares them


def _nullable_to_type(node: Any) -> Any:
    # OpenAPI 3.0 says "nullable: true"; JSON Schema says the type list includes "null".
    if isinstance(node, dict):
        node = {key: _nullable_to_type(value) for key, value in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    return node


def _path_regex(template: str) -> str:
    parts = re.split(r"\{([^}]+)\}", template)
    # re.split alternates literal text and parameter names.
    return "^" + "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)) + "$"


@cache
def openapi() -> dict[str, Any]:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    for extra_file in EXTRA_OPENAPI_FILES:
        extra = json.loads(extra_file.read_text(encoding="utf-8"))
        document["paths"].update(extra["paths"])
        document["components"]["schemas"].update(extra["components"]["schemas"])
    return document


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the subset, most specific path first so `/issue/bulk` beats `/issue/{key}`."""
    found = []
    for template, item in openapi()["paths"].items():
        regex = _path_regex(template)
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "")
            found.append(
                Operation(
                    operation_id=operation["operationId"],
                    method=method.upper(),
                    template=template,
                    pattern=re.compile(regex),
                    body_schema=ref.rsplit("/", 1)[-1] if ref else None,
                    query=tuple(p for p in operation.get("parameters", []) if p.get("in") == "query"),
                )
            )
    found.sort(key=lambda op: (op.template.count("{"), -len(op.template)))
    return tuple(found)


@cache
def _request_validator(schema_name: str) -> jsonschema.Draft4Validator:
    components = _nullable_to_type(copy.deepcopy(openapi()["components"]))
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    return jsonschema.Draft4Validator(root)


@cache
def _adf_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(ADF_FILE.read_text(encoding="utf-8")))


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def schema_errors(schema_name: str, value: Any) -> list[str]:
    """Messages for every way `value` breaks the named schema of the OpenAPI document."""
    return [_describe(e) for e in _request_validator(schema_name).iter_errors(value)]


def adf_errors(value: Any) -> list[str]:
    """Messages for every way `value` is not an ADF document (`best_match` keeps anyOf noise down)."""
    validator = _adf_validator()
    if validator.is_valid(value):
        return []
    best = jsonschema.exceptions.best_match(validator.iter_errors(value))
    return [_describe(best)] if best else ["not an ADF document"]


def query_errors(operation: Operation, query: dict[str, list[str]]) -> list[str]:
    """Messages for query parameters the operation does not declare, or whose value breaks its schema."""
    declared = {parameter["name"]: parameter for parameter in operation.query}
    problems = [
        f"query: {name!r} is not a parameter of {operation.operation_id}" for name in query if name not in declared
    ]
    for name, parameter in declared.items():
        if parameter.get("required") and name not in query:
            problems.append(f"query: {name!r} is required")
        schema = parameter.get("schema", {})
        for value in query.get(name, []):
            if schema.get("type") == "integer" and not value.lstrip("-").isdigit():
                problems.append(f"query: {name}={value!r} is not an integer")
            elif schema.get("type") == "boolean" and value not in ("true", "false"):
                problems.append(f"query: {name}={value!r} is not a boolean")
            elif "maxLength" in schema and len(value) > schema["maxLength"]:
                problems.append(f"query: {name} is longer than {schema['maxLength']}")
    return problems
