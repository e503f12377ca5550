"""The webhook's FHIR OperationOutcome, written and read in one place: besides each issue's
sentence (`diagnostics`), the counts and each warning's code and records ride as fields.

Fields, all additions to plain FHIR (an EHR that ignores them loses nothing):
- `extension[url=COUNTS_URL].extension[url=<name>].valueInteger`: patients, appointments,
  unchanged, stale, merges (the accepted answer only);
- `issue[].details.coding[system=CODE_SYSTEM].code`: "accepted" on the summary issue, a
  careloop.notices code on each warning (and on an error that has one);
- `issue[].extension[url=REFS_URL].valueReference.reference`: the records a warning is about.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from careloop.notices import CODES, Notice, code_of
from careloop.records import IngestResult

CODE_SYSTEM = "https://careloop.health/fhir/CodeSystem/intake-issue"
COUNTS_URL = "https://careloop.health/fhir/StructureDefinition/intake-counts"
REFS_URL = "https://careloop.health/fhir/StructureDefinition/issue-record"
SUMMARY_CODE = "accepted"
COUNT_NAMES = ("patients", "appointments", "unchanged", "stale", "merges")


def _issue(severity: str, code: str, text: str) -> dict:
    issue: dict = {"severity": severity, "code": code, "diagnostics": text}
    machine = code_of(text)
    if machine != "unclassified":
        issue["details"] = {"coding": [{"system": CODE_SYSTEM, "code": machine}]}
    refs = getattr(text, "refs", ())
    if refs:
        issue["extension"] = [{"url": REFS_URL, "valueReference": {"reference": r}} for r in refs]
    return issue


def operation_outcome(issues: list[str], code: str = "invalid", severity: str = "error") -> str:
    return json.dumps({"resourceType": "OperationOutcome", "issue": [_issue(severity, code, t) for t in issues]})


def accepted_outcome(result: IngestResult, mapped: Iterable[str] = ()) -> str:
    """The 200 answer: one summary line, then a warning per thing a person should know (the
    mapping's, then the merge's)."""
    counts = result.counts()
    merges = f"; {counts['merges']} merge(s) applied" if counts["merges"] else ""
    summary = _issue("information", "informational",
                     f"accepted: {counts['patients']} patient(s), {counts['appointments']} appointment(s) changed; "
                     f"{counts['unchanged']} unchanged; {counts['stale']} older than stored{merges}")
    summary["details"] = {"coding": [{"system": CODE_SYSTEM, "code": SUMMARY_CODE}]}
    issues = [summary] + [_issue("warning", "informational", w) for w in (*mapped, *result.warnings())]
    return json.dumps({
        "resourceType": "OperationOutcome",
        "extension": [{"url": COUNTS_URL, "extension": [{"url": k, "valueInteger": counts[k]} for k in COUNT_NAMES]}],
        "issue": issues,
    })


@dataclass
class OutcomeFields:
    """What an OperationOutcome from the webhook says, as fields."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    # a Notice where the issue carries a code this version knows, else the plain sentence
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_outcome(outcome: dict) -> OutcomeFields:
    """The fields of an OperationOutcome written by this module (never its sentences)."""
    fields = OutcomeFields()
    for ext in outcome.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == COUNTS_URL:
            for part in ext.get("extension") or []:
                if isinstance(part, dict) and part.get("url") in COUNT_NAMES and isinstance(part.get("valueInteger"), int):
                    fields.counts[part["url"]] = part["valueInteger"]
    for issue in outcome.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        code = next((c.get("code") for c in (issue.get("details") or {}).get("coding") or []
                     if isinstance(c, dict) and c.get("system") == CODE_SYSTEM), None)
        text = str(issue.get("diagnostics") or "")
        refs = tuple(r for e in issue.get("extension") or [] if isinstance(e, dict) and e.get("url") == REFS_URL
                     and isinstance(r := (e.get("valueReference") or {}).get("reference"), str))
        coded = Notice(code, text, refs) if code in CODES else text
        if issue.get("severity") == "warning":
            fields.warnings.append(coded)
        elif issue.get("severity") in ("error", "fatal"):
            fields.errors.append(coded)
    return fields
