"""The error responses of the OpenAPI document: what every route really answers when it refuses a request.

Request bodies are parsed by hand (clearer 4xx messages), so FastAPI's generated document knows neither the codes
the gateway answers (401/403, 404, 409, 410, 413, 429, 503) nor the shape of its errors: it documents 422 as a
list of pydantic errors, while every error here is `{"detail": "<message>", ...}` (`rewardgym/http.py`). Fuzzing
the live schema (tests/test_fuzz.py) checks each response against this.
"""

from __future__ import annotations

from typing import Any

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "description": "Every error answer: a human-readable message, sometimes with context (e.g. `known_envs`).",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_PROBLEM_RESPONSE = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_ERRORS = {
    "422": "Malformed request (the message says what was expected and what was got)",
    "4XX": "Refused: unknown environment or session (404), body too large (413), overloaded (429 with "
           "Retry-After), auth (401/403), conflict (409), session gone (410)",
    "503": "Environment or worker not ready",
}
_TEXT_ROUTES = {"/metrics": "text/plain"}


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Give every operation of `document` the gateway's error responses, in place; returns `document`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in _ERRORS.items():
                responses[code] = {"description": description, **_PROBLEM_RESPONSE}
            if path in _TEXT_ROUTES and "200" in responses:
                responses["200"]["content"] = {_TEXT_ROUTES[path]: {"schema": {"type": "string"}}}
    return document
