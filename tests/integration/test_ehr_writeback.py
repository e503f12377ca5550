"""careloop.ehr.writeback against a real local HTTP server standing in for the EHR's FHIR API:
what each patient action becomes in FHIR R4, retries with backoff (Retry-After honoured),
permanent refusals, idempotent requests, and write-back staying off unless enabled."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from careloop.ehr.writeback import (
    CARELOOP_SYSTEM,
    HttpWriteback,
    ListWritebackQueue,
    RecordingWriteback,
    WritebackError,
    WritebackEvent,
    deliver,
    enabled,
    record,
    requests_for,
)
from careloop.practice import demo_profile

AT = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


class FhirServer:
    """Answers from a script [(status, headers, body)], the last repeating; records requests."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(self.rfile.read(length) or b"null")})
                status, headers, body = outer.script[0] if len(outer.script) == 1 else outer.script.pop(0)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_PATCH = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/fhir"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fhir():
    made = []

    def make(*script):
        made.append(FhirServer(*script))
        return made[-1]

    yield make
    for s in made:
        s.close()


def event(kind="appointment_confirmed", **kw) -> WritebackEvent:
    data = {"kind": kind, "patient_id": "p1", "appointment_id": "a1", "at": AT} | kw
    return WritebackEvent(**data)


def port(base: str, sleeps: list[float], **kw) -> HttpWriteback:
    return HttpWriteback(base, token=lambda: "tok-123", sleep=sleeps.append, backoff=0.01, **kw)


# ---- what each action becomes ----------------------------------------------------------------


def test_confirmation_is_an_accepted_appointment_response_created_once():
    (req,) = requests_for(event())
    assert (req.method, req.path) == ("POST", "AppointmentResponse")
    assert req.body["participantStatus"] == "accepted"
    assert req.body["appointment"] == {"reference": "Appointment/a1"} and req.body["actor"] == {"reference": "Patient/p1"}
    # a retried event is the same conditional create: the EHR makes it once
    assert req.headers["If-None-Exist"] == f"identifier={CARELOOP_SYSTEM}|{event().dedupe_key}"
    assert req.body["identifier"][0]["value"] == event().dedupe_key


def test_cancellation_declines_and_sets_the_appointment_status():
    decline, patch = requests_for(event("appointment_cancelled"))
    assert decline.body["participantStatus"] == "declined"
    assert (patch.method, patch.path, patch.content_type) == ("PATCH", "Appointment/a1", "application/json-patch+json")
    assert patch.body == [{"op": "replace", "path": "/status", "value": "cancelled"}]


@pytest.mark.parametrize("kind, status", [("patient_opted_out", "active"), ("patient_opted_in", "inactive")])
def test_opt_out_and_back_in_is_one_consent_per_patient(kind, status):
    (req,) = requests_for(event(kind, appointment_id=None, patient_id="p/1 x"))
    assert (req.method, req.path) == ("PUT", "Consent/careloop-sms-p-1-x")
    assert req.body["status"] == status and req.body["provision"]["type"] == "deny"
    assert req.body["patient"] == {"reference": "Patient/p/1 x"}


def test_an_appointment_event_without_an_appointment_is_refused():
    with pytest.raises(WritebackError) as caught:
        requests_for(event(appointment_id=None))
    assert caught.value.permanent


# ---- over HTTP -------------------------------------------------------------------------------


def test_sends_fhir_json_with_the_token(fhir):
    server = fhir((201, {}, {"resourceType": "AppointmentResponse", "id": "r1"}))
    sleeps: list[float] = []
    assert deliver(event(), port(server.base, sleeps)) == 1
    (got,) = server.requests
    assert (got["method"], got["path"]) == ("POST", "/fhir/AppointmentResponse")
    assert got["headers"]["Authorization"] == "Bearer tok-123"
    assert got["headers"]["Content-Type"] == "application/fhir+json"
    assert got["body"]["participantStatus"] == "accepted" and sleeps == []


def test_retries_with_backoff_then_succeeds(fhir):
    # Given an EHR that is busy twice (503, then 429 asking for 2 s), then takes the request
    server = fhir((503, {}, None), (429, {"Retry-After": "2"}, None), (200, {}, {"resourceType": "Consent"}))
    sleeps: list[float] = []
    # When an opt-out is written back
    deliver(event("patient_opted_out", appointment_id=None), port(server.base, sleeps))
    # Then it was tried three times, waiting a jittered backoff and then what the EHR asked
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert 0 < sleeps[0] <= 0.01 and sleeps[1] == 2.0
    assert all(r["method"] == "PUT" for r in server.requests)


def test_gives_up_after_the_attempts_and_the_queue_retries(fhir):
    server = fhir((500, {}, None))
    with pytest.raises(WritebackError) as caught:
        deliver(event(), port(server.base, [], attempts=3))
    assert not caught.value.permanent and caught.value.status == 500 and len(server.requests) == 3


def test_a_refusal_is_permanent_at_once(fhir):
    server = fhir((422, {}, {"resourceType": "OperationOutcome"}))
    with pytest.raises(WritebackError) as caught:
        deliver(event("appointment_cancelled"), port(server.base, []))
    assert caught.value.permanent and caught.value.status == 422 and len(server.requests) == 1


def test_unreachable_ehr_is_transient():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/fhir"
    with pytest.raises(WritebackError) as caught:
        deliver(event(), port(dead, [], attempts=2))
    assert not caught.value.permanent


def test_plain_http_is_refused_off_loopback():
    with pytest.raises(ValueError):
        HttpWriteback("http://ehr.example.com/fhir")


# ---- off unless enabled ----------------------------------------------------------------------


def test_off_unless_the_profile_turns_it_on():
    queue = ListWritebackQueue()
    profile = demo_profile()
    off = profile.model_copy(update={"ehr": profile.ehr.model_copy(update={"writeback": False})})
    no_url = profile.model_copy(update={"ehr": profile.ehr.model_copy(update={"writeback": True, "fhir_base_url": None})})
    on = profile.model_copy(update={"ehr": profile.ehr.model_copy(
        update={"writeback": True, "fhir_base_url": "https://ehr.example.com/fhir"})})
    assert not enabled(off) and not enabled(no_url) and enabled(on)
    assert record(off, queue, event()) is False and queue.events == []
    assert record(on, queue, event()) is True and queue.events == [event()]
    # the queued event is ids only: no names, phones or message text
    assert set(json.loads(queue.events[0].model_dump_json())) == {"kind", "patient_id", "appointment_id", "at", "reason", "ref"}


def test_recording_fake_records_and_fails_on_demand():
    fake = RecordingWriteback(fail=[WritebackError("down", permanent=False)])
    with pytest.raises(WritebackError):
        deliver(event(), fake)
    assert deliver(event("appointment_cancelled"), fake) == 2
    assert [r.method for r in fake.sent] == ["POST", "PATCH"]
