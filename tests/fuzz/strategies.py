"""Hypothesis strategies that damage the vendored samples the way a broken or hostile sender would:
JSON trees (drop, duplicate, retype, huge, deep, wrong dates) and HL7 v2 (segments, fields, delimiters)."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.conftest import DATA

FHIR_DIR = DATA / "fhir-r4-examples"
HL7_FILES = sorted((DATA / "microsoft-FHIR-Converter" / "hl7v2").glob("*.hl7")) + [
    DATA / "python-hl7" / "sample_file_adt_a04_batch.hl7"]

# dates a sender gets wrong: impossible, out of range, the wrong type of instant, other formats
BAD_DATES = ["2026-02-30", "2026-13-01", "0000-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00",
             "2026-12-01T25:61:00Z", "2026-12-01T10:00:00", "2026-12-01T10:00:00+25:00", "20261201",
             "12/01/2026", "-2026-01-01", "2026", "2026-12", "1e10", "", " ", "now", "2026-12-01T10:00:00.9999999999Z",
             "+275760-09-13T00:00:00Z"]
WEIRD_TEXT = ["\x00", "\u202e", "\ud800", "\udfff", "𝕏" * 50, "😀" * 500, "\r\n|^~\\&", "<script>", "' OR 1=1 --",
              "%s%n%x", "{{7*7}}", "\ufeff", "A" * 70_000]


def weird_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(BAD_DATES), st.sampled_from(WEIRD_TEXT),
        st.text(max_size=40), st.text(min_size=5_000, max_size=12_000, alphabet=st.characters(codec="utf-8")),
    )


def retyped() -> st.SearchStrategy[Any]:
    return st.one_of(weird_scalars(), st.just([]), st.just({}), st.lists(weird_scalars(), max_size=3),
                     st.dictionaries(st.text(max_size=8), weird_scalars(), max_size=3))


def nested(depth: int, leaf: Any = "x") -> Any:
    value: Any = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"extension": value}
    return value


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if len(path) > 40:  # inside a nesting an earlier damage made: deep enough
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _parent(doc: Any, path: tuple) -> tuple[Any, Any]:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


@st.composite
def mutated_json(draw, doc: Any, max_mutations: int = 4) -> Any:
    """`doc` with 1..max_mutations damages at points drawn from its own tree."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(doc, path)
        op = draw(st.sampled_from(["drop", "duplicate", "retype", "huge", "deep", "date", "many"]))
        if op == "drop":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "duplicate":
            parent[key] = [parent[key], copy.deepcopy(parent[key])]
        elif op == "retype":
            parent[key] = draw(retyped())
        elif op == "huge":
            parent[key] = draw(st.sampled_from(["x" * 100_000, "é" * 30_000, "😀" * 20_000]))
        elif op == "deep":
            parent[key] = nested(draw(st.sampled_from([40, 200, 600])), parent[key])
        elif op == "date":
            parent[key] = draw(st.sampled_from(BAD_DATES))
        elif op == "many":
            parent[key] = [copy.deepcopy(parent[key]) for _ in range(draw(st.sampled_from([50, 400])))]
    return doc


@cache
def fhir_samples() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(FHIR_DIR.glob("*.json"))}


def bundle_of(resources: list[dict], kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{i:08d}-0000-4000-8000-000000000000", "resource": r,
                       "request": {"method": "PUT", "url": f"{r.get('resourceType')}/{r.get('id')}"}}
                      for i, r in enumerate(resources)]}


@st.composite
def fhir_documents(draw) -> Any:
    """A sample resource, or a Bundle of several, then damaged."""
    samples = fhir_samples()
    names = draw(st.lists(st.sampled_from(sorted(samples)), min_size=1, max_size=4))
    doc = samples[names[0]] if len(names) == 1 else bundle_of([samples[n] for n in names],
                                                             draw(st.sampled_from(["transaction", "batch", "collection",
                                                                                   "history", "searchset"])))
    return draw(mutated_json(doc))


def encode_json(doc: Any) -> bytes:
    # lone surrogates survive json.dumps as \ud800 escapes, as a broken sender writes them
    return json.dumps(doc).encode("utf-8")


@st.composite
def byte_damage(draw, body: bytes) -> bytes:
    """Raw damage to a payload's bytes: truncation, invalid UTF-8, a BOM, NULs, or a splice."""
    op = draw(st.sampled_from(["truncate", "invalid_utf8", "bom", "nul", "splice", "deep", "none"]))
    if op == "none" or not body:
        return body
    if op == "deep":  # nesting past what json.dumps could write, at the front of the document
        depth = draw(st.sampled_from([1_000, 20_000, 200_000]))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        return body[:1] + opener * depth + (b"]" if opener == b"[" else b"}") * depth + b"," + body[1:]
    at = draw(st.integers(0, len(body)))
    if op == "truncate":
        return body[:at]
    if op == "invalid_utf8":
        return body[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])) + body[at:]
    if op == "bom":
        return b"\xef\xbb\xbf" + body
    if op == "nul":
        return body[:at] + b"\x00" * draw(st.integers(1, 8)) + body[at:]
    return body[:at] + draw(st.binary(max_size=64)) + body[at:]


# --- HL7 v2 ---------------------------------------------------------------------------------------


@cache
def hl7_samples() -> dict[str, str]:
    return {p.name: p.read_bytes().decode("utf-8", "replace") for p in HL7_FILES}


def _segments(text: str) -> list[str]:
    return [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s]


HL7_GARBAGE = ["", "^", "^^^^", "~~~", "\\", "&", "|", "\\X0D\\", "\\E\\", "2026", "20261301", "20260230120000",
               "99999999999999", "00000000", "-1", "A" * 70_000, "é" * 2000, "\x00\x01\x02", "😀" * 300, "\ud800"]


@st.composite
def hl7_messages(draw) -> bytes:
    """A sample HL7 message with segment, field and component damage, wrong delimiters, MSH damage."""
    text = hl7_samples()[draw(st.sampled_from(sorted(hl7_samples())))]
    segments = _segments(text)
    for _ in range(draw(st.integers(1, 5))):
        if not segments:
            break
        i = draw(st.integers(0, len(segments) - 1))
        fields = segments[i].split("|")
        op = draw(st.sampled_from(["drop_segment", "dup_segment", "swap", "drop_field", "field", "component",
                                   "many_fields", "many_segments", "msh", "unknown_segment"]))
        if op == "drop_segment":
            del segments[i]
        elif op == "dup_segment":
            segments.insert(i, segments[i])
        elif op == "swap":
            j = draw(st.integers(0, len(segments) - 1))
            segments[i], segments[j] = segments[j], segments[i]
        elif op == "drop_field" and len(fields) > 1:
            del fields[draw(st.integers(1, len(fields) - 1))]
            segments[i] = "|".join(fields)
        elif op in ("field", "component") and len(fields) > 1:
            f = draw(st.integers(1, len(fields) - 1))
            value = draw(st.one_of(st.sampled_from(HL7_GARBAGE), st.text(max_size=30)))
            if op == "component":
                parts = fields[f].split("^")
                parts[draw(st.integers(0, len(parts) - 1))] = value
                value = "^".join(parts)
            fields[f] = value
            segments[i] = "|".join(fields)
        elif op == "many_fields":
            segments[i] = segments[i] + "|x" * draw(st.sampled_from([300, 5000]))
        elif op == "many_segments":
            segments[i:i + 1] = [segments[i]] * draw(st.sampled_from([100, 1500]))
        elif op == "msh":
            msh = next((k for k, s in enumerate(segments) if s.startswith("MSH")), 0)
            segments[msh] = draw(st.sampled_from([
                "MSH", "MSH|", "MSH|^~\\&", "MSH^~\\&|x", "MSH#^~\\&#PMS#X", "MSH||||||||",
                segments[msh].replace("^~\\&", draw(st.sampled_from(["", "^", "^~", "||||", "^~\\&^~\\&", "$%*+"])), 1),
                segments[msh][: draw(st.integers(0, len(segments[msh])))],
            ]))
        elif op == "unknown_segment":
            segments.insert(i, draw(st.sampled_from(["ZZZ|1|2", "X", "123|abc", "\x0b", "\x1c", "PID"])))
    terminator = draw(st.sampled_from(["\r", "\n", "\r\n", "\r\r"]))
    return draw(byte_damage(terminator.join(segments).encode("utf-8", "surrogatepass")))
