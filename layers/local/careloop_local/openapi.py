"""`make openapi`: writes the staff API's OpenAPI document (docs/openapi/staff-api.json) from the
inbox_api handler's routes, and the web app's types (web/src/api-types.ts) from that document."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

DOCUMENT = Path("docs/openapi/staff-api.json")  # both relative to the repository root
TYPES = Path("web/src/api-types.ts")
REGENERATE = "make openapi"  # what a drift test tells the developer to run

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def document_from_code() -> dict[str, Any]:
    """The document the handler serves at GET /api/openapi.json (functions/ is imported from the
    repository root, the working directory of `make`)."""
    from functions.inbox_api.handler import openapi_document

    return openapi_document()


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def typescript(document: dict[str, Any]) -> str:
    """One exported TypeScript type per schema in components.schemas: required properties plain,
    the others optional; $ref by name; enums as string literal unions."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    info = document.get("info", {})
    out = [
        f"// {info.get('title', 'API')} (version {info.get('version', '?')}): the bodies it takes and answers.",
        f"// GENERATED from docs/openapi/staff-api.json by `{REGENERATE}`; do not edit by hand.",
        "// Objects may carry more fields than listed (the API passes through what the core adds).",
        "",
    ]
    for name in sorted(schemas):
        out.extend(_declaration(name, schemas[name]))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _declaration(name: str, schema: dict[str, Any]) -> list[str]:
    lines = _doc_comment(schema.get("description"), "")
    if schema.get("type") == "object" and "properties" in schema:
        lines.append(f"export interface {name} {{")
        required = set(schema.get("required", []))
        for prop, sub in schema["properties"].items():
            key = prop if _IDENT.match(prop) else json.dumps(prop)
            lines.extend(_doc_comment(sub.get("description"), "  "))
            lines.append(f"  {key}{'' if prop in required else '?'}: {_type(sub)};")
        lines.append("}")
    else:
        lines.append(f"export type {name} = {_type(schema)};")
    return lines


def _doc_comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}/** {' '.join(text.split()).replace('*/', '* /')} */"]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " | ".join(dict.fromkeys(_type(s) for s in schema[combinator]))
    if "allOf" in schema:
        return " & ".join(_type(s) for s in schema["allOf"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        item = _type(schema.get("items", {}))
        return f"({item})[]" if " | " in item or " & " in item else f"{item}[]"
    if kind == "object":
        if "properties" in schema:  # an inline object: written out in place
            required = set(schema.get("required", []))
            fields = [f"{p if _IDENT.match(p) else json.dumps(p)}{'' if p in required else '?'}: {_type(s)}"
                      for p, s in schema["properties"].items()]
            return "{ " + "; ".join(fields) + " }"
        extra = schema.get("additionalProperties", True)
        return f"Record<string, {_type(extra) if isinstance(extra, dict) else 'unknown'}>"
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
            "null": "null"}.get(str(kind), "unknown")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when either file is out of date, writing nothing")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository (default: here)")
    args = parser.parse_args(argv)
    if not (args.root / "functions" / "inbox_api" / "handler.py").is_file():
        parser.error(f"{args.root} is not the repository root (no functions/inbox_api/handler.py)")
    if str(args.root) not in sys.path:
        sys.path.insert(0, str(args.root))
    document = document_from_code()
    wanted = {DOCUMENT: document_text(document), TYPES: typescript(document)}
    stale = [rel for rel, text in wanted.items()
             if not (args.root / rel).exists() or (args.root / rel).read_text() != text]
    if args.check:
        for rel in stale:
            print(f"{rel} is out of date: run `{REGENERATE}`", file=sys.stderr)
        return 1 if stale else 0
    for rel in stale:
        (args.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (args.root / rel).write_text(wanted[rel])
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
