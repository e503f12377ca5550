"""The inbox and analytics ports: the DynamoDB adapters (on moto) and the in-memory fakes give
the same answers to the same writes, and those answers are what the ports promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careloop.models import Appointment, Message, Patient

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _seed(svc, tag: str) -> None:
    """One patient with a flagged text, an open task, a reply and a done alert; one unknown
    sender; appointments before, inside and after a window (ids prefixed by `tag`)."""
    pid = f"{tag}-p"
    svc.records.put_patient(Patient(id=pid, first_name="Ana", last_name="Ruiz", phone="+16175550101"))
    for i, (start, status) in enumerate([
        (T0 - timedelta(days=2), "noshow"), (T0 + timedelta(days=3), "booked"),
        (T0 + timedelta(days=1), "cancelled"), (T0 + timedelta(days=5), "pending"),
    ]):
        svc.records.put_appointment(Appointment(id=f"{tag}-a{i}", patient_id=pid, start=start, status=status,
                                                updated_at=T0 - timedelta(days=2 - i)))
    for i, (kind, at, extra) in enumerate([
        ("sms_out", T0 - timedelta(hours=5), {"status": "delivered"}),
        ("sms_in", T0 - timedelta(hours=4), {"needs_attention": True, "status": "received"}),
        ("task", T0 - timedelta(hours=3), {"status": "open"}),
        ("staff_alert", T0 - timedelta(hours=2), {"status": "done"}),
        ("sms_out", T0 - timedelta(days=40), {"status": "delivered"}),  # before the inbox's month
    ]):
        svc.messages.put_message(Message(message_id=f"{tag}-m{i}", kind=kind, patient_id=pid, phone="+16175550101",
                                         body=f"text {i}", at=at, **extra))
    svc.messages.put_message(Message(message_id=f"{tag}-u0", kind="sms_in", phone="+16175550199", body="who?",
                                     at=T0 - timedelta(hours=1), needs_attention=True, status="received"))


def _mine(items, tag: str):
    return [i for i in items if (getattr(i, "id", None) or getattr(i, "message_id", "")).startswith(tag)]


@pytest.fixture
def both(ports):
    from careloop_local.fakes import memory_services

    fake = memory_services(T0)
    for svc in (fake, ports):
        _seed(svc, "ip")
    return {"memory": fake, "dynamo": ports}


def test_the_inbox_port_answers_alike_on_dynamodb_and_in_memory(both):
    answers = {}
    for name, svc in both.items():
        inbox = svc.inbox
        convs = inbox.conversations_since(T0 - timedelta(days=30))
        mine = {k: [m.message_id for m in v] for k, v in convs.items() if k in ("ip-p", "phone:+16175550199")}
        thread = [m.message_id for m in inbox.thread("ip-p")]
        nxt = inbox.next_appointments(T0).get("ip-p")
        window = [a.id for a in _mine(inbox.appointments_starting(T0 - timedelta(days=2), T0 + timedelta(days=5)), "ip")]
        patients = [p.id for p in _mine(inbox.patients(), "ip")]
        resolved = (inbox.resolve_conversation("ip-p"), inbox.resolve_conversation("ip-p"))
        still_open = [m.message_id for m in inbox.thread("ip-p") if m.needs_attention or m.status == "open"]
        reply = Message(message_id="ip-r", kind="sms_out", patient_id="ip-p", phone="+16175550101", body="hi",
                        at=T0, automated=False)
        recorded = (inbox.record_staff_reply(reply), inbox.record_staff_reply(reply))
        answers[name] = (mine, thread, nxt and nxt.id, window, patients, resolved, still_open, recorded)

    assert answers["dynamo"] == answers["memory"]
    mine, thread, nxt, window, patients, resolved, still_open, recorded = answers["memory"]
    # conversations: keyed by patient or by phone, oldest first, only the last month
    assert mine == {"ip-p": ["ip-m0", "ip-m1", "ip-m2", "ip-m3"], "phone:+16175550199": ["ip-u0"]}
    assert thread == ["ip-m4", "ip-m0", "ip-m1", "ip-m2", "ip-m3"]
    assert nxt == "ip-a1"  # the earliest still to come (the cancelled one is not)
    assert window == ["ip-a0", "ip-a2", "ip-a1"]  # [start, end): by start, a3 at the end is out
    assert patients == ["ip-p"]
    assert resolved == (2, 0) and still_open == []  # the flagged text and the open task, once
    assert recorded == (True, False)  # a retried reply is recorded once


def test_the_analytics_source_answers_alike_on_dynamodb_and_in_memory(both):
    answers = {}
    for name, svc in both.items():
        source = svc.analytics
        start, end = T0 - timedelta(hours=5), T0 - timedelta(hours=4)
        answers[name] = (
            [m.message_id for m in _mine(source.messages_between("sms_out", start, end), "ip")],
            [m.message_id for m in _mine(source.messages_between("sms_in", start, end), "ip")],
            [a.id for a in _mine(source.appointments_starting(T0, T0 + timedelta(days=5)), "ip")],
            sorted(a.id for a in source.appointments_of_patients(["ip-p", "ip-p", "ip-nobody"])),
        )

    assert answers["dynamo"] == answers["memory"]
    out_msgs, in_msgs, starting, of_patients = answers["memory"]
    assert out_msgs == ["ip-m0"] and in_msgs == []  # the period's end is excluded
    assert starting == ["ip-a2", "ip-a1"]
    assert of_patients == ["ip-a0", "ip-a1", "ip-a2", "ip-a3"]  # whenever they start, each once


@pytest.mark.parametrize("store", ["memory", "dynamo"])
def test_two_texts_within_one_second_keep_their_order(store, ports):
    """A patient who texts START and then a question in the same second: the thread, the inbox's
    conversation and the by-kind read give them in the order they came, whatever their ids (a
    second-resolution `at` tied them, and the index gave ties in id order: the inbox preview
    showed START instead of the question)."""
    from careloop_local.fakes import memory_services

    svc = memory_services(T0) if store == "memory" else ports
    pid = f"tie-{store}"
    at = T0 + timedelta(milliseconds=100)
    # ids chosen so that id order is the reverse of arrival order
    for i, (mid, body) in enumerate([("tie-z-first", "START"), ("tie-a-second", "Do you have parking?")]):
        svc.messages.put_message(Message(message_id=f"{mid}-{store}", kind="sms_in", patient_id=pid,
                                         phone="+16175550105", body=body, at=at + timedelta(milliseconds=400 * i),
                                         status="received"))
    expected = ["START", "Do you have parking?"]
    assert [m.body for m in svc.inbox.thread(pid)] == expected
    assert [m.body for m in svc.inbox.conversations_since(T0)[pid]] == expected
    assert [m.body for m in svc.messages.messages_of_kind("sms_in", T0) if m.patient_id == pid] == expected
    # and what is read back is the time it came, to the millisecond
    assert [m.at for m in svc.inbox.thread(pid)] == [at, at + timedelta(milliseconds=400)]
