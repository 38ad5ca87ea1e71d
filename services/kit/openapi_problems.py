"""Write the errors every operation can answer into a service's OpenAPI document.

Every error the services send is an RFC 9457 problem (`application/problem+json`, see
problems.py), whichever handler sends it, so it is documented once here rather than on each
handler. Litestar on its own documents a `400` with its own validation body, which is not
what we send; that entry is replaced.

An operation that needs a token can answer 401 and 403; any operation can answer the 4XX
range (400 malformed, 404, 409, 413, 415, 422, ...) and 503 when the database is away.
"""

from __future__ import annotations

import re

from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMA_NAME = "Problem"


def _or_null(kind: OpenAPIType) -> Schema:
    return Schema(one_of=[Schema(type=kind), Schema(type=OpenAPIType.NULL)])


_FIELD_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["field", "message"],
    properties={
        "field": Schema(type=OpenAPIType.STRING, description="The field path, query parameter or CSV column at fault."),
        "message": Schema(type=OpenAPIType.STRING),
        "row": _or_null(OpenAPIType.INTEGER),  # the CSV row as a spreadsheet numbers it
        "column": _or_null(OpenAPIType.STRING),
    },
)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title=PROBLEM_SCHEMA_NAME,
    description="An RFC 9457 problem: a stable `type` URI per kind of error, and what was wrong, by field.",
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="Stable URI naming the kind of problem."),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(type=OpenAPIType.ARRAY, items=_FIELD_PROBLEM),
        "dependency": Schema(
            type=OpenAPIType.STRING, description="On a 503: the other service that could not answer (`integrations`)."
        ),
    },
)

# (status key, description, only for operations that need a token)
_ERROR_RESPONSES = (
    ("401", "No token, or one that is expired, badly signed or for another audience.", True),
    ("403", "The caller's role does not allow this.", True),
    ("4XX", ("The request is malformed, names something that does not exist, conflicts with the current "
             "state, is too large, or is not valid; `errors` names each field (or row and column)."), False),
    ("503", ("The database, or another service this one must ask (named in `dependency`), is unavailable; "
             "the request did not complete. Try again shortly."), False),
)  # fmt: skip


def _problem_response(description: str) -> OpenAPIResponse:
    reference = Reference(ref=f"#/components/schemas/{PROBLEM_SCHEMA_NAME}")
    return OpenAPIResponse(description=description, content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=reference)})


def document_problems(openapi: OpenAPI, *, public_patterns: tuple[str, ...] = ()) -> None:
    """Add the problem responses to every operation of `openapi`, in place.

    Operations on a path matching one of `public_patterns` need no token: they say so
    (an empty `security`, overriding the document's bearer default) and get no 401 or 403.
    """
    openapi.components = openapi.components or Components()
    schemas = openapi.components.schemas = dict(openapi.components.schemas or {})
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    for path, item in (openapi.paths or {}).items():
        public = any(re.search(pattern, path) for pattern in public_patterns)
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            responses.pop("400", None)  # Litestar's own validation body, not what we send
            for status, description, needs_token in _ERROR_RESPONSES:
                if needs_token and public:
                    continue
                responses.setdefault(status, _problem_response(description))
            operation.responses = responses
            if public:
                operation.security = []
