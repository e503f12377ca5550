"""The deployed webhook's answers carry machine codes (issue 11): the JSON OperationOutcome has
the counts and a code on every issue, beside every field it had; the HL7 ACK has them in ERR-5."""

from __future__ import annotations

import json

from careloop.ehr.outcome import CODE_SYSTEM, COUNTS_URL, read_outcome
from tests.integration.test_ehr_webhook import fhir_patient, hl7, post


def test_the_json_answer_has_counts_and_codes_beside_its_sentences(served, ports):
    # Given a patient whose only phone is not a valid number
    status, text = post(served, "/ehr/fhir", fhir_patient("wc-badphone", phone="555-01"))
    outcome = json.loads(text)
    # Then the answer keeps its fields (severity, code, diagnostics) and adds the machine ones
    assert status == 200 and outcome["resourceType"] == "OperationOutcome"
    assert all({"severity", "code", "diagnostics"} <= set(i) for i in outcome["issue"])
    codes = [c["code"] for i in outcome["issue"] for c in i["details"]["coding"] if c["system"] == CODE_SYSTEM]
    assert codes == ["accepted", "invalid_phone", "no_sms_phone"]
    assert any(e["url"] == COUNTS_URL for e in outcome["extension"])
    assert read_outcome(outcome).counts["patients"] == 1
    assert "555-01" not in text and ports.records.get_patient("wc-badphone") is not None


def test_the_hl7_ack_names_the_codes_in_err_5(served, ports):
    # Given an HL7 ADT for a patient marked deceased (PID-30)
    msh, evn, pid = hl7("ADT^A04", "WC-DEAD-1", "WC-MRN-DEAD").rstrip(b"\r").split(b"\r")
    fields = pid.split(b"|") + [b""] * 31
    fields[30] = b"Y"
    status, ack = post(served, "/ehr/hl7v2", b"\r".join([msh, evn, b"|".join(fields[:31])]) + b"\r", hl7_ack=True)
    # Then the ACK accepts it and a severity-W ERR carries the code
    assert status == 200 and "MSA|AA|WC-DEAD-1" in ack
    errs = [s.split("|") for s in ack.split("\r") if s.startswith("ERR|")]
    assert ["W", "patient_deceased^^CARELOOP"] in [e[4:6] for e in errs], ack
