"""The patient page's API end to end on moto: the timeline through inbox_api, a no-show marked by
staff that the planner (via the records stream) turns into no-show recovery, a confirmation, a
consent change with a note in the ledger; bad input names the field, wrong ids are 404s, misfits 409s."""

from __future__ import annotations

import json
from datetime import timedelta

from careloop import consent
from careloop.models import Appointment, Patient
from careloop.records import ingest

STAFF = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
PHONE = "+16175550191"


def staff_api(stack, method: str, proxy: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    """The inbox_api handler with the API Gateway event the Cognito-authorised route delivers."""
    from careloop_local.events import api_event

    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"}, {}, payload,
                      {"proxy": proxy}, STAFF)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


def test_the_patient_page_reads_and_acts_through_the_staff_api(stack, ports):
    now = stack.clock.now()
    ingest(ports.records, ports.consent,
           [Patient(id="pp1", first_name="Maya", last_name="Cohen", phone=PHONE, phone_kind="mobile")],
           [Appointment(id="ppa-missed", patient_id="pp1", start=now - timedelta(hours=1), provider="Dr. Lee"),
            Appointment(id="ppa-next", patient_id="pp1", start=now + timedelta(days=2), provider="Dr. Lee")], now)
    stack.drain()

    status, page = staff_api(stack, "GET", "patients/pp1/timeline")
    assert status == 200, page
    assert page["patient"]["id"] == "pp1"
    assert {a["id"]: a["actions"] for a in page["appointments"]} == {
        "ppa-next": ["confirm", "cancel"], "ppa-missed": ["noshow", "fulfilled"]}

    # a no-show marked by staff: stored, and the planner (the stream) plans no-show recovery
    status, done = staff_api(stack, "POST", "appointments/ppa-missed/noshow")
    assert status == 200 and done["changed"] and done["appointment"]["status"] == "noshow", done
    assert done["ehr_told"] is False  # the demo profile has EHR write-back off
    stack.drain()
    assert ports.records.get_appointment("ppa-missed").status == "noshow"
    planned = {a.step for a in ports.actions.actions_for_subject("APT#ppa-missed") if a.workflow == "no-show-recovery"}
    assert planned == {"recovery-sms", "rebook-alert"}

    status, done = staff_api(stack, "POST", "appointments/ppa-next/confirm")
    assert status == 200 and done["appointment"]["confirmed"] is True
    assert ports.records.get_appointment("ppa-next").confirmed is True

    # what does not fit is a 409, what does not exist a 404; nothing changes
    status, answer = staff_api(stack, "POST", "appointments/ppa-next/noshow")
    assert status == 409 and "has not started" in answer["message"]
    status, answer = staff_api(stack, "POST", "appointments/ppa-next/delete")
    assert status == 404 and "confirm, cancel, noshow, fulfilled" in answer["message"]
    status, _ = staff_api(stack, "POST", "appointments/nope/confirm")
    assert status == 404
    status, _ = staff_api(stack, "GET", "patients/nope/timeline")
    assert status == 404

    # consent: the note is required and named; with it, the ledger has the staff member's entry
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", {"opted_out": True})
    assert status == 400 and answer["message"].startswith("note:")
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", raw=b"{not json")
    assert status == 400 and answer["message"].startswith("body:")
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", {"opted_out": False, "note": "called"})
    assert status == 400 and answer["message"].startswith("documented_consent:")
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", {"opted_out": True, "note": "Asked by phone"})
    assert status == 200 and answer == {"changed": True, "opted_out": True}
    last = consent.entries(ports.consent, PHONE)[-1]
    assert (last.action, last.source, last.by, last.text) == ("opt_out", "staff", "desk@maple.test", "Asked by phone")

    # texts resume with documented consent; the carrier takes a number off its list once in 30
    # days, so a second opt-in is a 409 that records nothing (the ledger never says "textable"
    # while End User Messaging still blocks the number)
    back_in = {"opted_out": False, "note": "Signed the SMS form", "documented_consent": True}
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", back_in)
    assert status == 200 and answer == {"changed": True, "opted_out": False}, answer
    status, _ = staff_api(stack, "POST", "patients/pp1/consent", {"opted_out": True, "note": "Asked again"})
    assert status == 200
    status, answer = staff_api(stack, "POST", "patients/pp1/consent", back_in)
    assert status == 409 and "30 days" in answer["message"] and "START" in answer["message"], answer
    assert consent.entries(ports.consent, PHONE)[-1].action == "opt_out"
    assert ports.records.get_patient("pp1").opted_out is True

    # and all of it is on the timeline, newest first
    status, page = staff_api(stack, "GET", "patients/pp1/timeline")
    kinds = [e["kind"] for e in page["entries"]]
    assert kinds[0] == "consent" and kinds.count("staff_action") == 2 and "appointment" in kinds
    assert page["patient"]["opted_out"] is True
