"""The booking routes over HTTP on the local stack (moto): the page, types, slots, a booking with
its confirmation and reminder, two racing bookings (one 201, one 409), and 404 / 410 / 400 / 413."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from careloop.models import Patient
from tests.integration.conftest import booking_stack

PHONES = {"p-ana": "+16175550181", "p-bo": "+16175550182", "p-cy": "+16175550183"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with booking_stack(tmp_path_factory) as s:
        yield s


def call(url: str, method: str = "GET", body: bytes | dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw, kind = resp.status, resp.read().decode(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read().decode(), exc.headers.get("Content-Type", "")
    return status, json.loads(raw) if "json" in kind else raw


@pytest.fixture(scope="module")
def tokens(stack):
    from careloop.adapters.aws import services
    from careloop.booking.links import mint

    svc = services()
    out = {}
    for pid, phone in PHONES.items():
        patient = Patient(id=pid, first_name=pid[2:].title(), phone=phone, phone_kind="mobile")
        svc.records.put_patient(patient)
        out[pid] = mint(svc, patient, "rebook", ref=f"test-{pid}").token
    stack.drain()
    return out


def first_slots(served, token, n=3):
    from careloop.adapters.aws import services

    day = (services().clock.now() + timedelta(days=3)).date().isoformat()
    status, answer = call(f"{served}/booking/api/slots?t={token}&type=cleaning&from={day}&days=2")
    assert status == 200, answer
    return answer


def test_the_page_types_and_slots_answer_as_the_spec_says(served, tokens):
    status, page = call(f"{served}/b/{tokens['p-ana']}")
    assert status == 200 and "<html" in page.lower()
    assert call(f"{served}/booking/api/types?t={tokens['p-ana']}") == (
        200, {"types": [{"id": "cleaning", "name": "Cleaning", "minutes": 60}]})
    answer = first_slots(served, tokens["p-ana"])
    assert answer["timezone"] == "America/New_York" and answer["slots"]
    first = answer["slots"][0]
    assert set(first) == {"start", "end", "provider", "location", "type"} and first["start"][-6:] in ("-05:00", "-04:00")


def test_two_racing_bookings_one_201_one_409_then_booked_confirmed_and_reminded(served, tokens, stack, ports):
    slot = first_slots(served, tokens["p-bo"])["slots"][0]
    results: dict[str, tuple[int, dict | str]] = {}
    barrier = threading.Barrier(2)

    def book(pid: str) -> None:
        barrier.wait()
        results[pid] = call(f"{served}/booking/api/book", "POST",
                            {"t": tokens[pid], "type": "cleaning", "start": slot["start"]})

    threads = [threading.Thread(target=book, args=(pid,)) for pid in ("p-bo", "p-cy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in results.values())
    assert statuses == [201, 409], results
    winner = next(pid for pid, (status, _) in results.items() if status == 201)
    loser = next(pid for pid, (status, _) in results.items() if status == 409)
    booked = results[winner][1]
    assert isinstance(booked, dict) and booked["status"] == "booked"
    assert booked["appointment"]["start"] == slot["start"] and booked["appointment"]["id"].startswith("careloop-")
    refused = results[loser][1]
    assert isinstance(refused, dict) and refused["error"] and all(s["start"] != slot["start"] for s in refused["slots"])

    # Then the sandbox lists it as a Careloop appointment
    status, listed = call(f"{served}/dev/appointments")
    mine = [a for a in listed if a["id"] == booked["appointment"]["id"]]
    assert status == 200 and len(mine) == 1 and mine[0]["source"] == "careloop" and mine[0]["patient"] == winner
    assert mine[0]["phone"] == PHONES[winner] and mine[0]["status"] == "booked"
    # the confirmation text went out at once, and the reminder is planned 48 h before
    stack.drain()
    bodies = [m["body"] for m in stack.standin.outbox() if m["destination"] == PHONES[winner]]
    assert len(bodies) == 1 and "booked" in bodies[0]
    appt = ports.records.get_appointment(booked["appointment"]["id"])
    planned = [a for a in ports.actions.actions_for_subject(f"APT#{appt.id}") if a.workflow == "appointment-reminder"]
    assert any(a.step == "reminder-48h" and a.due_at == appt.start - timedelta(hours=48) for a in planned), planned

    # And the winner's link is spent
    status, answer = call(f"{served}/booking/api/book", "POST", {"t": tokens[winner], "type": "cleaning",
                                                                  "start": slot["start"]})
    assert status == 410 and "error" in answer


@pytest.mark.parametrize(("url", "body", "status", "names"), [
    ("/booking/api/types?t=AAAAAAAAAAAA", None, 404, "unknown link"),
    ("/booking/api/types", None, 404, "unknown link"),
    ("/booking/api/slots?t={t}&type=nope&from=2030-01-01&days=2", None, 400, "type"),
    ("/booking/api/slots?t={t}&type=cleaning&from=tomorrow&days=2", None, 400, "from"),
    ("/booking/api/slots?t={t}&type=cleaning&days=x", None, 400, "days"),
    ("/booking/api/book", {"t": "{t}", "type": "cleaning", "start": "soon"}, 400, "start"),
    ("/booking/api/book", b"{not json", 400, "body"),
    ("/booking/api/book", b"[1, 2]", 400, "body"),
    ("/booking/api/book", b"x" * 10_000, 413, "body"),
])
def test_bad_requests_never_500_and_name_what_is_wrong(served, tokens, url, body, status, names):
    token = tokens["p-ana"]
    if isinstance(body, dict):
        body = {k: v.replace("{t}", token) for k, v in body.items()}
    got, answer = call(served + url.replace("{t}", token), "POST" if body is not None else "GET", body)
    assert got == status and isinstance(answer, dict) and names in answer["error"], answer


def test_the_dynamo_claim_lets_exactly_one_of_many_concurrent_claims_win(ports):
    # Given one slot and eight workers claiming it at once on the DynamoDB adapter (no local lock)
    from careloop.booking.links import SlotClaim

    start = ports.clock.now().replace(microsecond=0) + timedelta(days=20)
    won: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        won.append(ports.booking.claim_slot(SlotClaim(provider="lee", start=start, end=start + timedelta(hours=1),
                                                      appointment_id=f"a{i}", expires_at=start + timedelta(days=7))))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one wins, and the claim is what later searches see as busy
    assert sorted(won) == [False] * 7 + [True]
    (held,) = ports.booking.claims_between(start - timedelta(minutes=1), start + timedelta(minutes=1))
    assert held.provider == "lee" and held.start == start
    ports.booking.release_slot("lee", start)
    assert ports.booking.claims_between(start - timedelta(minutes=1), start + timedelta(minutes=1)) == []


def test_a_link_asked_too_often_gets_429_with_retry_after(served, stack):
    # Given a fresh link (the per-token counter lives in the booking table on moto)
    import urllib.error

    from careloop.adapters.aws import services
    from careloop.booking.links import mint
    from careloop.booking.service import REQUESTS_PER_LINK_PER_MINUTE

    svc = services()
    patient = Patient(id="p-hammer", first_name="Hal", phone="+16175550177", phone_kind="mobile")
    svc.records.put_patient(patient)
    token = mint(svc, patient, "book", ref="test-hammer").token
    # When it asks again and again (the limit is per minute: should a minute turn while it asks, the
    # count starts over once, so the refusal comes within two windows' worth)
    served_before, refused = 0, None
    for _ in range(2 * REQUESTS_PER_LINK_PER_MINUTE + 1):
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{served}/booking/api/types?t={token}"), timeout=30):
                served_before += 1
        except urllib.error.HTTPError as exc:
            refused = exc
            break
    # Then at least the limit is served, then it is refused, saying when to try again, without a
    # word about the patient
    assert refused is not None and served_before >= REQUESTS_PER_LINK_PER_MINUTE
    assert refused.code == 429 and refused.headers["Retry-After"] == "60"
    assert "Hal" not in refused.read().decode()
