"""Filling gaps on the local stack (moto): a patient joins the waitlist by text through sms_inbound,
staff add another through the inbox API, an EHR cancellation reaches the planner on the records
stream, the dispatcher sends the offers, two YES replies race through sms_inbound: one winner."""

from __future__ import annotations

import json
import threading
from datetime import datetime, time, timedelta

import pytest

from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop_local.events import LambdaContext, api_event
from tests.conftest import NY
from tests.integration.conftest import booking_stack, sample, sns_envelope, sqs_records_from_sample

PHONES = {"gc1": "+16175550191", "gw1": "+16175550192", "gw2": "+16175550193"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with booking_stack(tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def ports(stack):
    from careloop.adapters.aws import services

    return services()


@pytest.fixture(scope="module")
def slot(stack, ports):
    """09:00 tomorrow in Boston on the stack's clock; the slot is 10:00 the day after (25 h ahead)."""
    local = stack.clock.now().astimezone(NY)
    morning = datetime.combine(local.date() + timedelta(days=1), time(9), tzinfo=NY)
    stack.clock.advance(morning - stack.clock.now())
    now = stack.clock.now()
    start = datetime.combine(morning.date() + timedelta(days=1), time(10), tzinfo=NY)
    patients = [Patient(id=pid, first_name=pid.upper(), phone=phone, phone_kind="mobile") for pid, phone in PHONES.items()]
    appointments = [Appointment(id="ga-c1", patient_id="gc1", start=start, minutes=60, provider="lee", location="main",
                                visit_type="cleaning", source_version="1")]
    appointments += [Appointment(id=f"ga-{pid}", patient_id=pid, start=start + timedelta(days=12, hours=i), minutes=60,
                                 provider="lee", location="main", visit_type="cleaning", source_version="1")
                     for i, pid in enumerate(("gw1", "gw2"))]
    ingest(ports.records, ports.consent, patients, appointments, now)
    stack.drain()
    return start


def inbound(stack, pid: str, body: str) -> dict:
    payload = sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json") | {
        "originationNumber": PHONES[pid], "destinationNumber": stack.res.phone_number, "messageBody": body,
        "inboundMessageId": f"gap-test-{pid}-{body}"}
    return sqs_records_from_sample([sns_envelope(payload, stack.res.topics["sms_inbound"])], stack.res.queue_arns["inbound"])


def texts_to(stack, pid: str) -> list[str]:
    stack.drain()
    return [m["body"] for m in stack.standin.outbox() if m["destination"] == PHONES[pid]]


def staff_api(stack, method: str, path: str, body: dict | None = None) -> dict:
    event = api_event(method, f"/api{path}", "/api/{proxy+}", {"Content-Type": "application/json"}, {},
                      json.dumps(body).encode() if body is not None else b"", {"proxy": path.lstrip("/")},
                      claims={"email": "frontdesk@maple.test", "cognito:username": "frontdesk",
                              "cognito:groups": ["front_desk"]})
    return stack.invoke("inbox_api", event)


def test_waitlist_by_text_and_by_staff(stack, ports, slot):
    # a patient texts SOONER: the agent's reply, the flag in the booking table
    assert stack.invoke("sms_inbound", inbound(stack, "gw1", "SOONER")) == {"batchItemFailures": []}
    assert texts_to(stack, "gw1") == ["Maple Family Dental: you're on our waitlist, GW1. We'll text you if an "
                                      "earlier time opens. Reply NO SOONER to stop."]
    assert ports.booking.get_waitlist("gw1").source == "sms"
    # staff add another; a bad body is a 400 naming the field, an unknown patient a 404
    answer = staff_api(stack, "POST", "/patients/gw2/waitlist", {"waitlist": True})
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["waitlist"] is True
    assert ports.booking.get_waitlist("gw2").by == "frontdesk@maple.test"
    bad = staff_api(stack, "POST", "/patients/gw2/waitlist", {"waitlist": "yes"})
    assert bad["statusCode"] == 400 and "waitlist" in json.loads(bad["body"])["message"]
    assert staff_api(stack, "POST", "/patients/nobody/waitlist", {"waitlist": True})["statusCode"] == 404
    state = staff_api(stack, "GET", "/patients/gw2/waitlist")
    assert json.loads(state["body"])["waitlist"] is True
    # waiting order: gw1 first (it texted first)
    assert [e.patient_id for e in ports.booking.waitlist()] == ["gw1", "gw2"]


def test_an_ehr_cancellation_is_offered_and_the_first_yes_wins_the_race(stack, ports, slot):
    # Given the EHR cancels the visit 25 h ahead: the records stream reaches the planner
    now = stack.clock.now()
    ingest(ports.records, ports.consent, [],
           [ports.records.get_appointment("ga-c1").model_copy(update={"status": "cancelled", "source_version": "2"})],
           now)
    stack.drain()
    assert len([a for a in ports.actions.actions_for_subject("PAT#gw1") if a.workflow == "gap-fill"]) == 1
    # When the dispatcher runs (twice: nothing goes twice)
    stack.dispatch()
    stack.dispatch()
    offer = "Maple Family Dental: an earlier time opened: {} with Dr. Lee. Reply YES to take it."
    when = slot.strftime("%a %b ") + str(slot.day) + slot.strftime(" %I:%M %p").replace(" 0", " ") + f" ({slot.tzname()})"
    for pid in ("gw1", "gw2"):
        assert texts_to(stack, pid)[-1] == offer.format(when)
    assert texts_to(stack, "gc1") == []
    # And both say YES at the same moment, each through its own sms_inbound invocation
    events = {pid: inbound(stack, pid, "YES") for pid in ("gw1", "gw2")}
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def reply(pid: str) -> None:
        handler = stack.handler("sms_inbound")
        barrier.wait()
        results[pid] = handler(events[pid], LambdaContext("sms_inbound"))

    threads = [threading.Thread(target=reply, args=(pid,)) for pid in events]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(r == {"batchItemFailures": []} for r in results.values())
    # Then exactly one booking holds the slot, and the other hears it was taken
    booked = [a for a in ports.records.all_appointments() if a.source == "careloop" and a.start == slot]
    assert len(booked) == 1 and booked[0].status == "booked"
    winner = booked[0].patient_id
    loser = ({"gw1", "gw2"} - {winner}).pop()
    assert ports.records.get_appointment(f"ga-{winner}").status == "cancelled"  # their later visit moved
    assert ports.records.get_appointment(f"ga-{loser}").status == "booked"
    assert "you're booked" in texts_to(stack, winner)[-1]
    assert texts_to(stack, loser)[-1].startswith("Maple Family Dental: that time was just taken; you stay on the waitlist")
    assert ports.booking.get_waitlist(winner) is None and ports.booking.get_waitlist(loser) is not None
    # A redelivery of both replies changes nothing
    before = {pid: len(texts_to(stack, pid)) for pid in events}
    for event in events.values():
        assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}
    assert {pid: len(texts_to(stack, pid)) for pid in events} == before
    assert len([a for a in ports.records.all_appointments() if a.source == "careloop" and a.start == slot]) == 1


def test_the_gap_block_of_the_booking_store_answers_alike_on_dynamodb_and_in_memory(stack, ports):
    from careloop.booking.gaps import Gap, GapOffer, WaitlistEntry
    from careloop_local.fakes import MemoryBooking

    t0 = stack.clock.now().replace(microsecond=0)
    answers = {}
    for name, store in {"dynamo": ports.booking, "memory": MemoryBooking()}.items():
        said = []
        said.append(store.put_waitlist(WaitlistEntry(patient_id="px1", since=t0)))
        said.append(store.put_waitlist(WaitlistEntry(patient_id="px1", since=t0 + timedelta(hours=1))))  # keeps place
        said.append(store.put_waitlist(WaitlistEntry(patient_id="px0", since=t0 - timedelta(days=1), source="staff")))
        mine = [e for e in store.waitlist() if e.patient_id.startswith("px")]
        said.append([(e.patient_id, e.since, e.source) for e in mine])
        said += [store.remove_waitlist("px0"), store.remove_waitlist("px0"), store.get_waitlist("px0")]
        gap = Gap(provider="lee", start=t0 + timedelta(days=1), end=t0 + timedelta(days=1, hours=1), location="main",
                  type="cleaning", cancelled="apx1", cancelled_patient="pxc", opened_at=t0)
        said += [store.open_gap(gap), store.open_gap(gap)]  # a redelivered cancellation opens nothing twice
        offer = GapOffer(gap=gap.key, patient_id="px1", message_id="m-px1", planned_at=t0)
        said += [store.put_gap_offer(offer), store.put_gap_offer(offer)]
        store.set_gap_offer(gap.key, "px1", status="sent", sent_at=(t0 + timedelta(minutes=1)).isoformat())
        store.set_gap_offer(gap.key, "nobody", status="sent")  # no such offer: nothing happens
        said.append([(o.patient_id, o.status, o.sent_at) for o in store.gap_offers(gap.key)])
        said.append([o.message_id for o in store.gap_offers_for_patient("px1")])
        said += [store.take_gap(gap.key, "px1", t0), store.take_gap(gap.key, "px2", t0)]
        taken = store.get_gap(gap.key)
        said.append((taken.status, taken.taken_by))
        # taken, then freed again by another cancellation (its new holder's): it opens once more
        said += [store.open_gap(gap), store.open_gap(gap.model_copy(update={"cancelled": "apx2"}))]
        said.append(store.get_gap(gap.key).status)
        answers[name] = said
    assert answers["dynamo"] == answers["memory"]
    assert answers["memory"][:3] == [True, False, True]
    assert answers["memory"][-3:] == [False, True, "open"]
