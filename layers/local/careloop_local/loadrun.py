"""A load run against the local stack over real HTTP (issue 15 item 4): a burst of signed EHR
bookings, inbound texts from the booked patients and booking-page sessions, driven concurrently;
then the clock is moved so every reminder comes due, and the run is checked against the SMS
stand-in's outbox and the tables: what was sent twice (duplicates), what was never sent (losses).

`make bench` prints the full figures (tests/bench/bench_load.py); a scaled-down run is a test
(tests/integration/test_load_small.py). Loopback only, and bounded: every wait has a deadline.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from careloop.intake import sign

BOOKED_DAYS = (3, 4)  # EHR bookings: appointments this many days ahead (their reminders come due in the run)
SESSION_DAYS = range(3, 9)  # booking-page sessions look for a slot on one of these days ahead
PROVIDERS = ("lee", "patel", "h1", "h2", "h3", "h4", "h5", "h6")  # eight chairs: enough open slots
CONFIRM_WORDS = ("C", "Yes", "confirm")
QUESTIONS = ("What are your hours?", "Where do I park?", "Do you take Delta Dental?")
ATTEMPTS = 5  # a booking-page session offered a slot someone just took (409) tries another


@dataclass
class Stream:
    """One stream of the burst: what each request took and answered."""

    name: str
    ok_statuses: frozenset[int]
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | str, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            self.finished = max(self.finished, time.perf_counter())

    @property
    def accepted(self) -> int:
        return sum(n for s, n in self.statuses.items() if s in self.ok_statuses)

    @property
    def errors(self) -> dict[str, int]:
        return {str(s): n for s, n in sorted(self.statuses.items(), key=str) if s not in self.ok_statuses}

    def summary(self) -> dict[str, Any]:
        span = max(self.finished - self.started, 1e-9)
        lat = sorted(self.latencies) or [0.0]
        return {"requests": len(self.latencies), "accepted": self.accepted, "per_s": self.accepted / span,
                "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
                "errors": self.errors, "seconds": span}


@dataclass
class LoadReport:
    streams: dict[str, dict[str, Any]]
    settle_s: float  # after the burst: until every stream and queue was empty (reminders planned)
    drain_s: float  # the clock moved day by day until every reminder and nudge was sent
    max_advance_s: float  # the longest single /dev/clock/advance
    texts_sent: int
    expected: dict[str, int]  # what the inputs say must have been sent, by kind
    duplicates: dict[str, int]  # texts sent twice to one patient for one step, by kind
    losses: dict[str, int]  # expected texts never sent (and confirmations or opt-outs not recorded), by kind
    unexpected: dict[str, int]  # texts nobody should have got (an opted-out patient reminded, ...)
    session_retries: int  # 409s a booking-page session got and answered by taking another slot
    timed_out: bool = False

    @property
    def clean(self) -> bool:
        errors = sum(sum(s["errors"].values()) for s in self.streams.values())
        return not (errors or any(self.duplicates.values()) or any(self.losses.values())
                    or any(self.unexpected.values()) or self.timed_out)


# payloads ---------------------------------------------------------------------------------
def booked_phone(i: int) -> str:
    return f"+1617{2000000 + i:07d}"


def session_phone(i: int) -> str:
    return f"+1617{3000000 + i:07d}"


def booking_start(i: int, today: datetime) -> datetime:
    """EHR booking i: on the half hour 09:00-16:30 on one of BOOKED_DAYS (few distinct due times,
    so moving the clock takes a few dozen ticks, as a practice's day of appointments would)."""
    day = today + timedelta(days=BOOKED_DAYS[i % len(BOOKED_DAYS)])
    slot = (i // len(BOOKED_DAYS)) % 16
    return day.replace(hour=9 + slot // 2, minute=30 * (slot % 2), second=0, microsecond=0)


def fhir_booking(i: int, start: datetime) -> bytes:
    pid, aid = f"lp{i}", f"la{i}"
    return json.dumps({
        "resourceType": "Bundle", "id": f"load-{i}", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{2 * i:012d}",
             "resource": {"resourceType": "Patient", "id": pid, "meta": {"lastUpdated": "2026-01-01T10:00:00Z"},
                          "name": [{"family": "Load", "given": [f"Pat{i}"]}],
                          "telecom": [{"system": "phone", "value": booked_phone(i), "use": "mobile"}]},
             "request": {"method": "PUT", "url": f"Patient/{pid}"}},
            {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{2 * i + 1:012d}",
             "resource": {"resourceType": "Appointment", "id": aid, "meta": {"lastUpdated": "2026-01-01T10:00:00Z"},
                          "status": "booked", "start": start.isoformat(),
                          "end": (start + timedelta(minutes=30)).isoformat(),
                          "participant": [{"actor": {"reference": f"urn:uuid:00000000-0000-4000-8000-{2 * i:012d}"},
                                           "status": "accepted"}]},
             "request": {"method": "PUT", "url": f"Appointment/{aid}"}},
        ]}).encode()


def hl7_booking(i: int, start: datetime) -> bytes:
    """SIU^S12 (a new appointment) with the patient's PID; SCH-11's start in the practice's zone."""
    phone = booked_phone(i)
    segments = [
        f"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|20260101100000||SIU^S12|L{i}|P|2.5",
        "EVN||20260101100000",
        f"PID|1||LH{i}^^^MAPLE^MR||Load^Pat{i}||19800101||||||^PRN^CP^^1^{phone[2:5]}^{phone[5:]}",
        f"SCH|LA-H{i}^PMS|F-{i}||||||CHECKUP^Checkup|30|MIN|^^M30^{start.strftime('%Y%m%d%H%M')}",
        "RGS|1",
    ]
    return ("\r".join(segments) + "\r").encode()


def inbound_body(i: int) -> tuple[str, str]:
    """Text i's (kind, body): six in ten confirm, three ask a question, one opts out."""
    k = i % 10
    if k < 6:
        return "confirm", CONFIRM_WORDS[k % len(CONFIRM_WORDS)]
    if k < 9:
        return "question", QUESTIONS[k - 6]
    return "stop", "STOP"


def bench_practice(folder: Path, root: Path) -> Path:
    """The demo practice with eight bookable chairs every day 08:00-20:00 on the hour."""
    profile = json.loads((root / "practices" / "demo.json").read_text())
    profile["providers"] = profile["providers"] + [
        {"id": p, "name": f"Hygienist {p[1:]}", "title": "RDH"} for p in PROVIDERS if p.startswith("h")]
    profile["booking"] = {
        "types": [{"id": "checkup", "name": {"en": "Checkup", "es": "Revisión"}, "minutes": 60,
                   "providers": list(PROVIDERS), "new_patients": True}],
        "hours": [{"provider": p, "location": "main", "weekday": d, "hours": {"start": "08:00", "end": "20:00"}}
                  for p in PROVIDERS for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")],
        "step_minutes": 60,
    }
    path = folder / "load-practice.json"
    path.write_text(json.dumps(profile))
    return path


# HTTP -------------------------------------------------------------------------------------
def call(url: str, method: str = "GET", body: bytes | dict | None = None,
         headers: dict[str, str] | None = None, timeout: float = 120.0) -> tuple[int | str, Any]:
    """One request; (status, parsed JSON or text). A connection error is its exception's name."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} | (headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            status, raw, kind = resp.status, resp.read().decode(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read().decode(), exc.headers.get("Content-Type", "")
    except OSError as exc:
        return type(exc).__name__, None
    return status, json.loads(raw) if "json" in kind and raw else raw


def timed(stream: Stream, fn: Callable[[], tuple[int | str, Any]]) -> tuple[int | str, Any]:
    t0 = time.perf_counter()
    status, body = fn()
    stream.record(status, time.perf_counter() - t0)
    return status, body


# the run ----------------------------------------------------------------------------------
@dataclass
class Plan:
    bookings: int = 2000
    texts: int = 1000
    sessions: int = 500
    timeout_s: float = 1800.0
    booking_workers: int = 8
    text_workers: int = 4
    session_workers: int = 4


@contextmanager
def served_stack(folder: Path) -> Iterator[tuple[Any, str]]:
    """The local stack (as `careloop local` starts it, pump and ticker running) on the bench
    practice, its HTTP front on a free loopback port."""
    from werkzeug.serving import make_server

    from careloop_local.http import LocalHttp
    from careloop_local.runtime import ROOT, LocalStack

    stack = LocalStack(practice_file=bench_practice(folder, ROOT)).start()
    server = make_server("127.0.0.1", 0, LocalHttp(stack), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield stack, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        stack.stop()


def morning(stack: Any) -> datetime:
    """Moves the stack's clock to the next 07:00 at the practice: the run's day 0."""
    from careloop.adapters.aws import services

    zone = services().practice.zone
    now = stack.clock.now().astimezone(zone)
    target = (now + timedelta(days=1)).replace(hour=7, minute=0, second=0, microsecond=0)
    stack.clock.advance(target - now)
    return stack.clock.now().astimezone(zone)


def mint_sessions(n: int) -> list[str]:
    """The booking-page sessions' links: one rebook link per patient, as a recovery text carries."""
    from careloop.adapters.aws import services
    from careloop.booking.links import mint
    from careloop.models import Patient

    svc = services()
    tokens = []
    for i in range(n):
        patient = Patient(id=f"ls{i}", first_name=f"Sess{i}", phone=session_phone(i), phone_kind="mobile")
        svc.records.put_patient(patient)
        tokens.append(mint(svc, patient, "rebook", ref=f"load-{i}").token)
    return tokens


def wait_quiet(stack: Any, deadline: float) -> bool:
    """Until every stream and queue is empty three times in a row (the planner caught up) or `deadline`."""
    return stack.drain(max(deadline - time.monotonic(), 0.0), quiet_passes=3)


class Burst:
    """The three streams, concurrently, each from its own pool of client threads."""

    def __init__(self, url: str, secret: str, today: datetime, plan: Plan, tokens: list[str]) -> None:
        self.url, self.secret, self.today, self.plan, self.tokens = url, secret, today, plan, tokens
        self.bookings = Stream("bookings", frozenset({200, 202}))
        self.texts = Stream("texts", frozenset({202}))
        self.sessions = Stream("sessions", frozenset({200, 201}))
        self.booked: Queue[int] = Queue()  # accepted bookings, for the texts to come from
        self.sent_texts: dict[int, str] = {}  # booking i -> the kind of text its patient sent
        self.session_booked: dict[int, dict] = {}  # session i -> the appointment its 201 answered
        self.retries = 0
        self._lock = threading.Lock()

    def book(self, i: int) -> None:
        start = booking_start(i, self.today)
        hl7 = i % 4 == 3
        raw = hl7_booking(i, start) if hl7 else fhir_booking(i, start)
        path = "/ehr/hl7v2" if hl7 else "/ehr/fhir"
        kind = "x-application/hl7-v2+er7" if hl7 else "application/fhir+json"
        status, _ = timed(self.bookings, lambda: call(self.url + path, "POST", raw, {
            "Content-Type": kind, "X-Careloop-Signature": sign(self.secret, raw)}))
        if status in self.bookings.ok_statuses:
            self.booked.put(i)

    def text(self, n: int, deadline: float) -> None:
        """The n-th text, from a patient whose booking was accepted (each patient texts once)."""
        try:
            i = self.booked.get(timeout=max(deadline - time.monotonic(), 0.1))
        except Empty:
            self.texts.record("no booked patient", 0.0)
            return
        kind, body = inbound_body(n)
        with self._lock:
            self.sent_texts[i] = kind
        timed(self.texts, lambda: call(self.url + "/dev/sms/inbound", "POST", {"from": booked_phone(i), "body": body}))

    def session(self, i: int) -> None:
        token = self.tokens[i]
        day = (self.today + timedelta(days=SESSION_DAYS[i % len(SESSION_DAYS)])).date().isoformat()
        for status, _ in (timed(self.sessions, lambda: call(f"{self.url}/b/{token}")),
                          timed(self.sessions, lambda: call(f"{self.url}/booking/api/types?t={token}"))):
            if status != 200:
                return
        for attempt in range(ATTEMPTS):
            status, answer = timed(self.sessions, lambda: call(
                f"{self.url}/booking/api/slots?t={token}&type=checkup&from={day}&days=1"))
            if status != 200 or not answer["slots"]:
                return
            slot = answer["slots"][(i + attempt * 7) % len(answer["slots"])]
            t0 = time.perf_counter()
            status, answer = call(self.url + "/booking/api/book", "POST", {
                "t": token, "type": "checkup", "start": slot["start"], "provider": slot["provider"]})
            if status == 409:  # taken a moment ago: the page offers the others
                with self._lock:
                    self.retries += 1
                continue
            self.sessions.record(status, time.perf_counter() - t0)
            if status == 201:
                with self._lock:
                    self.session_booked[i] = answer["appointment"]
            return
        self.sessions.record("409 on every attempt", 0.0)

    def run(self, deadline: float) -> None:
        p = self.plan
        now = time.perf_counter()
        for s in (self.bookings, self.texts, self.sessions):
            s.started = now

        def bounded(stream: Stream, fn: Callable[..., None], *args: Any) -> Callable[[], None]:
            def job() -> None:  # the run is bounded: what has not started by the deadline is not sent
                if time.monotonic() > deadline:
                    stream.record("not sent: run out of time", 0.0)
                else:
                    fn(*args)
            return job

        with ThreadPoolExecutor(p.booking_workers) as books, ThreadPoolExecutor(p.text_workers) as texts, \
                ThreadPoolExecutor(p.session_workers) as sessions:
            jobs = [books.submit(bounded(self.bookings, self.book, i)) for i in range(p.bookings)]
            jobs += [texts.submit(bounded(self.texts, self.text, n, deadline)) for n in range(min(p.texts, p.bookings))]
            jobs += [sessions.submit(bounded(self.sessions, self.session, i)) for i in range(p.sessions)]
            for job in jobs:
                job.result()


def advance_until(url: str, stack: Any, target_days: int, deadline: float) -> tuple[float, float, bool]:
    """POST /dev/clock/advance a day at a time until `target_days` after day 0 -> (total s,
    longest call s, timed out)."""
    total = longest = 0.0
    for _ in range(target_days):
        left = deadline - time.monotonic()
        if left <= 0:
            return total, longest, True
        t0 = time.perf_counter()
        status, _ = call(url + "/dev/clock/advance", "POST", {"minutes": 24 * 60}, timeout=left)
        took = time.perf_counter() - t0
        total, longest = total + took, max(longest, took)
        if status != 200:
            return total, longest, True
    return total, longest, not wait_quiet(stack, deadline)


def check(url: str, burst: Burst, plan: Plan) -> dict[str, dict[str, int]]:
    """Counts from the outbox (GET /dev/sms/outbox) and the records table, against what the
    inputs say must have happened."""
    from careloop.adapters.aws import services

    records = services().records
    status, outbox = call(url + "/dev/sms/outbox")
    if status != 200 or not isinstance(outbox, list):
        raise RuntimeError(f"GET /dev/sms/outbox answered {status}: {str(outbox)[:300]}")
    by_phone: dict[str, list[dict]] = {}
    for m in outbox:
        by_phone.setdefault(m["to"], []).append(m)
    expected: Counter = Counter()
    dup: Counter = Counter()
    lost: Counter = Counter()
    odd: Counter = Counter()

    def steps(phone: str, workflow: str, step: str) -> int:
        return sum(1 for m in by_phone.get(phone, []) if m["workflow"] == workflow and m["step"] == step)

    def expect(kind: str, got: int, want: bool) -> None:
        if want:
            expected[kind] += 1
            lost[kind] += got == 0
            dup[kind] += max(got - 1, 0)
        elif got:
            odd[kind] += got

    accepted = sorted(set(burst.booked.queue) | set(burst.sent_texts))
    appointments = {a.id: a for a in records.all_appointments()}
    for i in accepted:
        phone, kind = booked_phone(i), burst.sent_texts.get(i)
        appt = appointments.get(f"la{i}") or appointments.get(f"LA-H{i}")
        lost["appointment stored"] += appt is None
        patient = records.patients_by_phone(phone)
        opted_out = any(p.opted_out for p in patient)
        lost["opt-out recorded"] += kind == "stop" and not opted_out
        confirmed = bool(appt and appt.confirmed)
        lost["confirmation recorded"] += kind == "confirm" and not confirmed
        expect("reminder", steps(phone, "appointment-reminder", "reminder-48h"), kind != "stop")
        expect("nudge", steps(phone, "confirmation-nudge", "nudge-24h"), kind not in ("stop", "confirm"))
        if kind is not None:
            # the SMS agent's answer to the patient's own text (STOP's too: it says they are opted out)
            answers = [m for m in by_phone.get(phone, []) if m["workflow"] == "sms-agent"]
            expect(f"answer to {kind}", len(answers), True)
    for i, booked in sorted(burst.session_booked.items()):
        phone = session_phone(i)
        lost["appointment stored"] += booked["id"] not in appointments
        expect("booking confirmation", steps(phone, "booking", "confirmation"), True)
        expect("reminder", steps(phone, "appointment-reminder", "reminder-48h"), True)
        expect("nudge", steps(phone, "confirmation-nudge", "nudge-24h"), True)
    return {"expected": dict(expected), "duplicates": dict(dup), "losses": {k: v for k, v in lost.items() if v},
            "unexpected": dict(odd), "texts": {"sent": len(outbox)}}


def run(plan: Plan, folder: Path, progress: Callable[[str], None] = lambda _: None) -> LoadReport:
    deadline = time.monotonic() + plan.timeout_s
    with served_stack(folder) as (stack, url):
        today = morning(stack)
        tokens = mint_sessions(plan.sessions)
        wait_quiet(stack, deadline)
        progress(f"stack up at {url}; day 0 is {today:%a %Y-%m-%d %H:%M %Z}")
        burst = Burst(url, stack.webhook_secret, today, plan, tokens)
        burst.run(deadline)
        progress("burst done")
        t0 = time.perf_counter()
        settled = wait_quiet(stack, deadline)
        settle = time.perf_counter() - t0
        progress(f"settled in {settle:.1f} s")
        days = max(max(BOOKED_DAYS), max(SESSION_DAYS)) + 1
        drain, longest, timed_out = advance_until(url, stack, days, deadline)
        progress(f"clock moved {days} days in {drain:.1f} s")
        counts = check(url, burst, plan)
        return LoadReport(
            streams={s.name: s.summary() for s in (burst.bookings, burst.texts, burst.sessions)},
            settle_s=settle, drain_s=drain, max_advance_s=longest, texts_sent=counts["texts"]["sent"],
            expected=counts["expected"], duplicates=counts["duplicates"], losses=counts["losses"],
            unexpected=counts["unexpected"], session_retries=burst.retries, timed_out=timed_out or not settled)



def describe(report: LoadReport) -> list[str]:
    """The report as `make bench` prints it."""
    lines = [f"{'stream':<10} {'requests':>8} {'accepted':>8} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}  errors"]
    for name, s in report.streams.items():
        errors = ", ".join(f"{n} x {status}" for status, n in s["errors"].items()) or "none"
        lines.append(f"{name:<10} {s['requests']:>8,} {s['accepted']:>8,} {s['per_s']:>7.1f} {s['p50_ms']:>8.0f} "
                     f"{s['p99_ms']:>8.0f}  {errors}")
    lines.append("(a session's requests: page, types, slots, book; "
                 f"{report.session_retries} slot(s) taken by another session a moment before, and another chosen)")
    lines.append(f"settled after the burst in {report.settle_s:.1f} s (every stream and queue empty)")
    lines.append(f"drain: the clock moved day by day until every reminder and nudge was sent in {report.drain_s:.1f} s "
                 f"(longest /dev/clock/advance {report.max_advance_s:.1f} s){'  TIMED OUT' if report.timed_out else ''}")
    lines.append(f"texts sent {report.texts_sent:,}; checked against the outbox and the records table:")
    for kind, n in report.expected.items():
        lines.append(f"  {kind:<22} expected {n:>6,}   duplicates {report.duplicates.get(kind, 0):>4}   "
                     f"lost {report.losses.get(kind, 0):>4}")
    others = {k: v for k, v in report.losses.items() if k not in report.expected}
    lines.append(f"  other losses: {others or 'none'};  unexpected texts: {report.unexpected or 'none'}")
    lines.append("clean: zero errors, duplicates and losses" if report.clean else "NOT CLEAN: see above")
    return lines
