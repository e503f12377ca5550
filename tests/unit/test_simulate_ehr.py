"""`careloop simulate` takes EHR payloads as events (spec/simulate.md): HL7 v2 SIU from the
shared samples and FHIR, under the ids the EHR gave them."""

from __future__ import annotations

from careloop_local.simulate import simulate


def test_hl7v2_siu_event_creates_the_appointment_under_the_ehr_ids(data_dir):
    message = (data_dir / "microsoft-FHIR-Converter" / "hl7v2" / "SIU-S12-01.hl7").read_text()
    lines, warnings = simulate({
        # the sample was sent (MSH-7) on 2021-09-14: it arrives after that, as it would
        "start": "2021-09-14T07:00:00-04:00", "until": "2021-09-30T08:00:00-04:00",
        "events": [{"at": "2021-09-14T08:00:00-04:00", "type": "ehr_hl7v2", "payload": message}],
    })
    states = {x["kind"]: x for x in lines if x["kind"].endswith("_state")}
    assert states["appointment_state"]["appointment"] == "12345"
    assert states["appointment_state"]["patient"] == "PATID1234"
    assert states["appointment_state"]["start"].startswith("2021-09-24")
    assert states["patient_state"]["patient"] == "PATID1234"


def test_a_rejected_payload_is_a_warning_not_a_crash():
    lines, warnings = simulate({
        "start": "2026-12-01T08:00:00-05:00", "until": "2026-12-02T08:00:00-05:00",
        "events": [{"at": "2026-12-01T09:00:00-05:00", "type": "ehr_hl7v2", "payload": "MSH|^~\\&|X|Y|Z|W|2026||ORU^R01|1|P|2.5"}],
    })
    assert lines == [] and "events[0].payload" in warnings[0]
