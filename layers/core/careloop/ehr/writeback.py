"""Write-back to the EHR: what patients tell Careloop (confirmed, cancelled, stop/start texting)
goes back as plain FHIR R4 JSON over HTTPS, retried with backoff; off unless the profile says so.

Producers enqueue a `WritebackEvent` (ids only, no PHI) on the write-back queue; its consumer
calls `deliver()`, which builds the FHIR requests and sends them through a `WritebackPort`.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from careloop.errors import WritebackError
from careloop.models import Appointment
from careloop.practice import PracticeProfile

CARELOOP_SYSTEM = "https://careloop.dev/fhir/writeback"  # identifier system of what Careloop creates
FHIR_JSON = "application/fhir+json"
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})

EventKind = Literal["appointment_confirmed", "appointment_cancelled", "patient_opted_out", "patient_opted_in",
                    "fetch_resource", "appointment_created", "appointment_noshow", "appointment_fulfilled"]
# staff closing a visit out from the patient page: the EHR's Appointment.status, one PATCH
CLOSE_OUT_STATUS = {"appointment_noshow": "noshow", "appointment_fulfilled": "fulfilled"}


class WritebackEvent(BaseModel):
    """One thing to tell the EHR. Ids only: the queue message carries no PHI."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: EventKind
    patient_id: str
    appointment_id: str | None = None
    at: datetime
    reason: str | None = None  # cancellation reason code/text the patient chose ("patient")
    ref: str | None = None  # fetch_resource: "Appointment/77", named by an id-only notification

    @property
    def dedupe_key(self) -> str:
        """Same event, same key: the queue's idempotency key and the EHR-side identifier."""
        return f"{self.kind}/{self.ref or self.appointment_id or self.patient_id}/{self.at.isoformat()}"


@dataclass(frozen=True)
class FhirRequest:
    method: Literal["GET", "POST", "PUT", "PATCH"]
    path: str  # relative to the FHIR base ("AppointmentResponse", "Appointment/123")
    body: dict | list | None
    content_type: str = FHIR_JSON
    headers: dict[str, str] = field(default_factory=dict)


class WritebackPort(Protocol):
    """The outbound FHIR side. One call per request; raises WritebackError."""

    def send(self, request: FhirRequest) -> dict | None: ...


def enabled(practice: PracticeProfile) -> bool:
    ehr = practice.ehr
    return bool(ehr.writeback and ehr.fhir_base_url)


# ---- what each event becomes ---------------------------------------------------------------


def requests_for(event: WritebackEvent, appointment: Appointment | None = None) -> list[FhirRequest]:
    """The FHIR R4 requests an event becomes. Creates are conditional on a Careloop identifier
    (If-None-Exist), updates are PUT/PATCH of one value: a retried event changes nothing twice.
    `appointment_created` (a self-scheduled booking) needs the stored `appointment`."""
    if event.kind == "appointment_created":
        if appointment is None:
            raise WritebackError("appointment_created needs the stored appointment", permanent=True)
        return [appointment_create(appointment)]
    if event.kind in CLOSE_OUT_STATUS:
        if not event.appointment_id:
            raise WritebackError(f"{event.kind} needs an appointment id", permanent=True)
        patch = [{"op": "replace", "path": "/status", "value": CLOSE_OUT_STATUS[event.kind]}]
        return [FhirRequest("PATCH", f"Appointment/{event.appointment_id}", patch,
                            content_type="application/json-patch+json")]
    if event.kind in ("appointment_confirmed", "appointment_cancelled"):
        if not event.appointment_id:
            raise WritebackError(f"{event.kind} needs an appointment id", permanent=True)
        accepted = event.kind == "appointment_confirmed"
        ident = {"system": CARELOOP_SYSTEM, "value": event.dedupe_key}
        response = {
            "resourceType": "AppointmentResponse",
            "identifier": [ident],
            "appointment": {"reference": f"Appointment/{event.appointment_id}"},
            "actor": {"reference": f"Patient/{event.patient_id}"},
            "participantStatus": "accepted" if accepted else "declined",
            "comment": (("Confirmed" if accepted else "Cancelled")
                        + (" by staff in Careloop" if event.reason == "staff" else " by the patient by text message (Careloop)")),
        }
        out = [FhirRequest("POST", "AppointmentResponse", response,
                           headers={"If-None-Exist": f"identifier={CARELOOP_SYSTEM}|{event.dedupe_key}"})]
        if not accepted:
            patch = [{"op": "replace", "path": "/status", "value": "cancelled"}]
            out.append(FhirRequest("PATCH", f"Appointment/{event.appointment_id}", patch,
                                   content_type="application/json-patch+json"))
        return out
    # communication preference: one Consent per patient, PUT at a fixed id (update-as-create)
    opted_out = event.kind == "patient_opted_out"
    consent = {
        "resourceType": "Consent",
        "id": consent_id(event.patient_id),
        "status": "active" if opted_out else "inactive",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                  "display": "Patient Consent"}],
                      "text": "Text-message (SMS) communication preference"}],
        "patient": {"reference": f"Patient/{event.patient_id}"},
        "dateTime": event.at.isoformat(),
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTOUT"}]},
        "provision": {"type": "deny",
                      "action": [{"text": "send text messages (SMS)"}],
                      "period": {"start": event.at.isoformat()}},
    }
    return [FhirRequest("PUT", f"Consent/{consent['id']}", consent)]


def appointment_create(appointment: Appointment) -> FhirRequest:
    """A booking made through a Careloop link, as a FHIR Appointment created once (If-None-Exist
    on its Careloop identifier)."""
    participants = [{"actor": {"reference": f"Patient/{appointment.patient_id}"}, "status": "accepted"}]
    if appointment.provider:
        participants.append({"actor": {"reference": f"Practitioner/{appointment.provider}"}, "status": "accepted"})
    if appointment.location:
        participants.append({"actor": {"reference": f"Location/{appointment.location}"}, "status": "accepted"})
    body = {
        "resourceType": "Appointment",
        "identifier": [{"system": CARELOOP_SYSTEM, "value": appointment.id}],
        "status": appointment.status if appointment.status in ("booked", "pending", "proposed") else "booked",
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "minutesDuration": appointment.minutes,
        "serviceType": [{"text": appointment.visit_type}] if appointment.visit_type else [],
        "comment": "Booked by the patient through a Careloop link",
        "participant": participants,
    }
    return FhirRequest("POST", "Appointment", body,
                       headers={"If-None-Exist": f"identifier={CARELOOP_SYSTEM}|{appointment.id}"})


def consent_id(patient_id: str) -> str:
    """FHIR ids are [A-Za-z0-9-.]{1,64}: keep what fits, so one patient has one Consent."""
    clean = "".join(c if c.isalnum() or c in "-." else "-" for c in patient_id)
    return f"careloop-sms-{clean}"[:64]


_REF = __import__("re").compile(r"^(Patient|Appointment|Practitioner|PractitionerRole|Location)/[A-Za-z0-9\-.]{1,64}$")


def fetch_enabled(practice: PracticeProfile) -> bool:
    """Id-only notifications can be completed when the EHR's FHIR API is known."""
    return bool(practice.ehr.fhir_base_url)


def fetch_request(event: WritebackEvent) -> FhirRequest:
    if event.kind != "fetch_resource" or not event.ref or not _REF.match(event.ref):
        raise WritebackError(f"fetch_resource needs a reference like Appointment/77, not {event.ref!r}", permanent=True)
    return FhirRequest("GET", event.ref, None)


def deliver(event: WritebackEvent, port: WritebackPort,
            appointment_of: Callable[[str], Appointment | None] | None = None) -> int:
    """Send every request of an event; -> how many were sent. Raises WritebackError.
    `appointment_of` reads the stored appointment an `appointment_created` event names."""
    appointment = (appointment_of(event.appointment_id) if event.kind == "appointment_created"
                   and appointment_of and event.appointment_id else None)
    requests = requests_for(event, appointment)
    for request in requests:
        port.send(request)
    return len(requests)


# ---- producing events ----------------------------------------------------------------------


class WritebackQueue(Protocol):
    def enqueue(self, event: WritebackEvent) -> None: ...


@dataclass
class ListWritebackQueue:
    """In-memory queue (simulator, tests)."""

    events: list[WritebackEvent] = field(default_factory=list)

    def enqueue(self, event: WritebackEvent) -> None:
        self.events.append(event)


def record(practice: PracticeProfile, queue: WritebackQueue | None, event: WritebackEvent) -> bool:
    """What the core calls after a patient confirms, cancels or opts in/out: nothing unless the
    practice turned write-back on. -> whether the event was queued."""
    if queue is None or not enabled(practice):
        return False
    queue.enqueue(event)
    return True


# ---- the HTTP port and its recording fake --------------------------------------------------


class HttpWriteback:
    """FHIR R4 REST over HTTPS with urllib: retries on 408/425/429/5xx and network errors with
    exponential backoff and jitter (Retry-After honoured), up to `attempts` tries per request."""

    def __init__(self, base_url: str, *, token: Callable[[], str | None] | None = None, timeout: float = 10.0,
                 attempts: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("the EHR FHIR base URL must be https:// (plain http only on loopback)")
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep

    def send(self, request: FhirRequest) -> dict | None:
        last: WritebackError | None = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self._delay(attempt, last))
            try:
                return self._once(request)
            except WritebackError as exc:
                if exc.permanent:
                    raise
                last = exc
        assert last is not None
        raise WritebackError(f"{request.method} {request.path}: gave up after {self.attempts} attempts "
                             f"({last})", permanent=False, status=last.status)

    def _delay(self, attempt: int, last: WritebackError | None) -> float:
        if last is not None and last.retry_after is not None:
            return min(last.retry_after, self.max_backoff)
        base = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return base * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)

    def _once(self, request: FhirRequest) -> dict | None:
        headers = {"Content-Type": request.content_type, "Accept": FHIR_JSON, **request.headers}
        token = self.token() if self.token else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if request.body is None else json.dumps(request.body).encode()
        if data is None:
            headers.pop("Content-Type", None)
        req = urllib.request.Request(f"{self.base}/{request.path}", data=data, method=request.method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (https enforced)
                text = resp.read()
                return json.loads(text) if text.strip() else None
        except urllib.error.HTTPError as exc:
            after = exc.headers.get("Retry-After") if exc.headers else None
            raise WritebackError(f"{request.method} {request.path}: HTTP {exc.code}",
                                 permanent=exc.code not in RETRYABLE, status=exc.code,
                                 retry_after=float(after) if after and after.isdigit() else None) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise WritebackError(f"{request.method} {request.path}: {type(exc).__name__}",
                                 permanent=False) from exc
        except json.JSONDecodeError:
            return None


@dataclass
class RecordingWriteback:
    """The port as a fake: records every request; `fail` makes the next sends raise."""

    sent: list[FhirRequest] = field(default_factory=list)
    fail: list[WritebackError] = field(default_factory=list)

    def send(self, request: FhirRequest) -> dict | None:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(request)
        return None
