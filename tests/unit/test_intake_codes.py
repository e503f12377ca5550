"""Machine contracts between modules (issue 11): intake answers with fields (counts, coded
warnings), the OperationOutcome and the HL7 ACK carry the codes, and bulk import reads the
webhook's answer by its fields, never by its wording."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

import careloop
from careloop.ehr.outcome import CODE_SYSTEM, COUNTS_URL, accepted_outcome, read_outcome
from careloop.ehr.payload import parse
from careloop.errors import PayloadError
from careloop.notices import CODES, Notice, code_of
from careloop.records import IngestResult
from careloop_local import ehr_bulk as bulk
from tests.unit.test_records_intake import DictArchive, fhir_appointment, fhir_patient, hl7, post


@pytest.fixture
def archive():
    return DictArchive()


def coded(issues: list[dict]) -> list[tuple[str, str]]:
    """(severity, code) of each issue, by the Careloop code system."""
    return [(i["severity"], c["code"]) for i in issues for c in (i.get("details") or {}).get("coding", [])
            if c["system"] == CODE_SYSTEM]


def test_a_notice_is_its_sentence_plus_a_code():
    n = Notice("patient_deceased", "Patient/p: the EHR marks this patient deceased", ("Patient/p",))
    assert n == "Patient/p: the EHR marks this patient deceased" and json.dumps([n]) == json.dumps([str(n)])
    assert (n.code, n.refs, code_of(n), code_of("plain text")) == ("patient_deceased", ("Patient/p",),
                                                                   "patient_deceased", "unclassified")
    with pytest.raises(ValueError, match="unknown notice code"):
        Notice("no_such_code", "text")


def test_the_intake_result_has_counts_and_coded_warnings(svc, archive):
    # Given a patient whose only phone is unreadable and who is marked deceased, and an appointment
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": fhir_patient("p1", phone="555-01", deceasedBoolean=True)},
        {"resource": fhir_appointment("a1", "p1")}]}
    # When it arrives
    result = post(svc, archive, "fhir", bundle)
    # Then the result says what happened as fields
    assert result.status == 200
    assert result.counts == {"patients": 1, "appointments": 1, "unchanged": 0, "stale": 0, "merges": 0}
    assert result.warning_codes == ["invalid_phone", "no_sms_phone", "patient_deceased"]
    assert all(isinstance(w, Notice) and w.refs == ("Patient/p1",) for w in result.warnings)
    # and the JSON answer carries the same: the counts extension, a code on every issue
    outcome = json.loads(result.body)
    assert coded(outcome["issue"]) == [("information", "accepted"), ("warning", "invalid_phone"),
                                       ("warning", "no_sms_phone"), ("warning", "patient_deceased")]
    [counts] = [e for e in outcome["extension"] if e["url"] == COUNTS_URL]
    assert {e["url"]: e["valueInteger"] for e in counts["extension"]} == result.counts
    # with every field it had before (the sentences an EHR person reads)
    assert outcome["issue"][0]["diagnostics"].startswith("accepted: 1 patient(s), 1 appointment(s) changed")
    assert all(i["code"] == "informational" and i["diagnostics"] for i in outcome["issue"])
    assert "555-01" not in result.body


def test_merge_warnings_have_codes_and_name_their_records(svc, archive):
    # Given a patient with an MRN; When another id arrives with the same MRN
    ident = [{"system": "urn:oid:1.2.3", "value": "MRN77"}]
    post(svc, archive, "fhir", fhir_patient("p1", identifier=ident))
    result = post(svc, archive, "fhir", fhir_patient("p2", identifier=ident))
    # Then the duplicate is a coded warning naming both patients, read back as fields
    assert result.warning_codes == ["duplicate_identifier"]
    fields = read_outcome(json.loads(result.body))
    assert [(code_of(w), w.refs) for w in fields.warnings] == [("duplicate_identifier", ("Patient/p2", "Patient/p1"))]
    assert fields.counts["patients"] == 1


def test_refusals_carry_codes_where_they_have_one(svc, archive):
    # Given an appointment ten years ahead and one whose status is not FHIR's
    far = fhir_appointment("a1", start="2036-12-10T14:00:00-05:00")
    odd = fhir_appointment("a2", status="tentative")
    for payload, code in ((far, "date_out_of_range"), (odd, "unknown_status")):
        # When it arrives; Then it is refused, and the code rides in the answer and the result
        result = post(svc, archive, "fhir", payload)
        assert result.status == 400 and [code_of(e) for e in result.errors] == [code]
        assert coded(json.loads(result.body)["issue"]) == [("error", code)]


def test_the_hl7_ack_carries_the_codes_in_err_5(svc, archive):
    # Given an SIU whose filler status is unknown (a warning, not a refusal)
    body = hl7("SIU^S12", sent="20261120100000").replace("SCH|A-100^PMS|F-200||||||CHECKUP^Checkup|30|MIN|^^M30^202612101400",
                                                          "SCH|A-100^PMS|F-200||||||CHECKUP^Checkup|30|MIN|^^M30^202612101400"
                                                          + "|" * 14 + "Tentative")
    result = post(svc, archive, "hl7v2", body, ack=True)
    # Then the ACK accepts it and its ERR segment (severity W) names the code in ERR-5
    assert result.status == 200 and "unknown_status" in result.warning_codes
    errs = [s.split("|") for s in result.body.split("\r") if s.startswith("ERR|")]
    assert ["W", "unknown_status^^CARELOOP"] in [e[4:6] for e in errs], result.body
    # and an HL7 date out of range is a coded refusal
    with pytest.raises(PayloadError) as exc:
        parse("hl7v2", hl7("SIU^S12", sent="20261120100000", start="203612101400").encode(), svc)
    assert "date_out_of_range" in [code_of(i) for i in exc.value.issues]


def test_every_warning_the_mappers_write_is_coded():
    # every `<x>.warnings.append(...)` / notes list in careloop.ehr and careloop.records appends a Notice
    core = Path(careloop.__file__).parent
    uncoded = []
    writers = [p for p in core.joinpath("ehr").glob("*.py") if p.name != "outcome.py"]  # outcome.py reads answers
    for path in [*writers, core / "records.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"):
                continue
            target = ast.unparse(node.func.value)
            if target.endswith("warnings") or target == "messages[-1][1]":  # the HL7 splitter's notes
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Call) and ast.unparse(arg.func) == "Notice"):
                    uncoded.append(f"{path.name}:{node.lineno}")
    assert uncoded == []
    # and the codes themselves are snake_case words with a meaning
    assert all(c.replace("_", "").isalpha() and c.islower() and CODES[c] for c in CODES)


class _Answer(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bulk_import_through_the_webhook_reads_fields_not_sentences(monkeypatch):
    # Given the webhook's answer with wording that no longer matches any sentence pattern
    result = IngestResult(patients=["p2"], appointments=["a1", "a2"], unchanged=["p3"], stale=["a0"],
                          merged=["x->y"], duplicates=[("p2", "p1")])
    outcome = json.loads(accepted_outcome(result))
    for issue in outcome["issue"]:
        issue["diagnostics"] = "reworded for people"
    monkeypatch.setattr(bulk.urllib.request, "urlopen", lambda req, timeout: _Answer(json.dumps(outcome).encode()))
    # When the import's webhook sink writes a batch
    counts = bulk.WebhookSink("http://careloop.invalid", "s").write({"resourceType": "Bundle"}, None)
    # Then the counts and the duplicate pair still come through, from the fields
    assert counts == {"patients": 1, "appointments": 2, "unchanged": 1, "stale": 1, "merges": 1,
                      "duplicates": [("p2", "p1")], "orphans": [], "warning_codes": []}
    assert not any(name.startswith("_SUMMARY") for name in vars(bulk))


def test_bulk_import_counts_the_mappings_warnings_by_code(svc, tmp_path):
    # Given an export with two unreadable phones and a deceased patient
    lines = [fhir_patient("b1", phone="555-01"), fhir_patient("b2", phone="1"),
             fhir_patient("b3", deceasedBoolean=True)]
    path = tmp_path / "Patient.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    # When it is imported into the store
    summary = bulk.import_files([path], svc)
    # Then the summary counts the warnings by their code, as fields and in the printed lines
    assert summary.warnings == {"invalid_phone": 2, "no_sms_phone": 2, "patient_deceased": 1}
    assert summary.as_dict()["warnings"] == summary.warnings
    assert "  warnings: 2 invalid_phone, 2 no_sms_phone, 1 patient_deceased" in summary.lines()
