"""The staff API's OpenAPI document and the web app's types do not drift: the checked-in document
is the one the handler's routes give, api-types.ts is generated from it, and every route is typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careloop_local import openapi

ROOT = Path(__file__).resolve().parents[2]
RUN = f"run `{openapi.REGENERATE}` and commit docs/openapi/staff-api.json and web/src/api-types.ts"


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi.document_from_code()


def test_the_checked_in_document_is_the_one_the_routes_give(document):
    checked_in = (ROOT / openapi.DOCUMENT).read_text()
    assert openapi.document_text(document) == checked_in, f"the staff API changed but its OpenAPI document did not: {RUN}"


def test_the_web_apps_api_types_are_generated_from_the_checked_in_document():
    checked_in = json.loads((ROOT / openapi.DOCUMENT).read_text())
    assert openapi.typescript(checked_in) == (ROOT / openapi.TYPES).read_text(), f"web/src/api-types.ts is stale: {RUN}"


def test_the_check_mode_passes_on_this_repository(capsys):
    assert openapi.main(["--check", "--root", str(ROOT)]) == 0, capsys.readouterr().err


def test_every_route_declares_what_it_takes_and_answers(document):
    from functions.inbox_api.handler import app

    # every route is in the document but the document itself
    declared = {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes if r.include_in_schema}
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert declared == documented
    # and each answers a declared schema (JSON) or says it is a CSV download or a printable HTML page: a route returning a
    # bare dict is untyped (recipe: README, "The staff API's contract")
    untyped = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            ok = [op["responses"][c] for c in ("200", "201", "202") if c in op["responses"]]
            content = ok[0].get("content", {}) if ok else {}
            if not ("text/csv" in content or "text/html" in content or content.get("application/json", {}).get("schema")):
                untyped.append(f"{method.upper()} {path}")
            if method in ("post", "put") and "requestBody" not in op and op["operationId"] not in BODYLESS:
                untyped.append(f"{method.upper()} {path} (its body)")
    assert untyped == [], (f"declare these routes' answer (-> a model in careloop/api_models.py) and body "
                           f"(a model parameter), then {RUN}: {untyped}")


# the POST routes that take no body (the web app sends `{}`): their action is the URL
BODYLESS = frozenset({
    "post_resolve_patients__patient_id__resolve_post", "post_hand_back_patients__patient_id__hand_back_post",
    "post_read_patients__patient_id__read_post", "post_booking_request_booking_requests__appointment_id___decision__post",
    "post_appointment_action_appointments__appointment_id___action__post",
})


def test_errors_are_documented_as_this_api_answers_them(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            answers = op["responses"]
            assert "422" not in answers or path == "/workflows/{workflow_id}", f"{method} {path}: a bad field is a 400 here"
            assert answers["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorAnswer"}
            assert "403" in answers
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(document["components"]["schemas"])


@pytest.mark.parametrize(("schema", "ts"), [
    ({"type": "string"}, "string"),
    ({"type": "integer"}, "number"),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "string | null"),
    ({"type": "string", "enum": ["in", "out"]}, '"in" | "out"'),
    ({"$ref": "#/components/schemas/Message"}, "Message"),
    ({"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}}, "(A | null)[]"),
    ({"type": "array", "items": {"type": "object", "additionalProperties": True}}, "Record<string, unknown>[]"),
    ({"type": "object", "additionalProperties": {"type": "string"}}, "Record<string, string>"),
    ({"type": "object", "properties": {"a": {"type": "boolean"}, "b-c": {"type": "string"}}, "required": ["a"]},
     '{ a: boolean; "b-c"?: string }'),
    ({}, "unknown"),
])
def test_json_schema_becomes_typescript(schema, ts):
    assert openapi._type(schema) == ts


def test_a_model_becomes_an_interface_with_optional_fields_marked():
    out = openapi.typescript({"info": {"title": "T", "version": "1"}, "components": {"schemas": {"Thing": {
        "type": "object", "description": "A thing.", "required": ["id"],
        "properties": {"id": {"type": "string"}, "note": {"type": "string", "description": "Why */ not"}}}}}})
    assert "/** A thing. */\nexport interface Thing {\n  id: string;\n  /** Why * / not */\n  note?: string;\n}\n" in out
