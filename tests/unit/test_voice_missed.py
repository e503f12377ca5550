"""Missed-call text-back (issue 13, item 4; spec/voice.md): a call that ended without a person or a
finished outcome gets one text a day through the send queue, never to an opted-out number."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from careloop import consent
from careloop.consent import ConsentEntry
from careloop.models import Patient
from careloop.records import ingest
from careloop.voice import calls
from careloop.voice.contact import (
    CallContact,
    ContactEventError,
    contact_from_describe,
    parse_contact_event,
)
from careloop.voice.missed import handle_contact_event, text_back_id
from tests.connect_samples import missed_call_event, published_event

INSTANCE = "12345678-1234-1234-1234-123456789012"
ANA, SHARED, STRANGER = "+16175550101", "+16175550102", "+16175550199"


@pytest.fixture
def people(svc):
    ingest(svc.records, svc.consent, [
        Patient(id="p-ana", first_name="Ana", last_name="Reyes", phone=ANA, phone_kind="mobile", language="es"),
        Patient(id="p-bo", first_name="Bo", last_name="Lee", phone=SHARED),
        Patient(id="p-cy", first_name="Cy", last_name="Lee", phone=SHARED),
    ], [], svc.clock.now())
    svc.booking_base_url = "https://api.maple.test"  # personal links on


def _call(svc, contact_id, caller, *, attributes=None, agent=False, minutes_ago=1):
    ended = svc.clock.now() - timedelta(minutes=minutes_ago)
    svc.contacts.contacts[(INSTANCE, contact_id)] = CallContact(
        contact_id=contact_id, caller_phone=caller, practice_phone="+16175550100", attributes=attributes or {},
        reached_agent=agent, initiated_at=ended - timedelta(minutes=2), disconnected_at=ended)
    return missed_call_event(contact_id, INSTANCE, agent=agent, at=ended.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def _texts(svc):
    return [m for m in svc.outbox.sent if m.kind == "sms_out"]


def test_the_published_sample_reads_with_keys_of_any_case():
    # Given AWS's own sample (an outbound call a person answered: `AgentInfo`, capitalised)
    event = parse_contact_event(published_event())
    # Then every part the function needs is read, whatever the case of its key
    assert (event.event_type, event.contact_id, event.instance_id) == (
        "DISCONNECTED", "11111111-1111-1111-1111-111111111111", "12345678-1234-1234-1234-123456789012")
    assert event.reached_agent and event.initiation_method == "OUTBOUND" and event.channel == "VOICE"
    assert event.disconnected_at == datetime(2021, 8, 4, 17, 18, 37, tzinfo=UTC)


def test_the_published_sample_is_recorded_but_never_texted(svc, people):
    # Given the sample's contact as DescribeContact has it
    contact_id = "11111111-1111-1111-1111-111111111111"
    svc.contacts.contacts[(INSTANCE, contact_id)] = CallContact(
        contact_id=contact_id, caller_phone=ANA, initiation_method="OUTBOUND", reached_agent=True)
    # When the event arrives
    outcome = handle_contact_event(svc, published_event())
    # Then the call is in the inbox, and nobody is texted (a person took it, and we placed it)
    assert outcome.action == "recorded" and _texts(svc) == []
    entry = svc.messages.get_message(outcome.inbox_message_id)
    assert entry.kind == "call" and entry.patient_id == "p-ana" and entry.reached_agent


def test_a_missed_call_from_a_patient_gets_one_text_in_their_language_with_a_personal_link(svc, people):
    # When Ana's call ends before anyone answered
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA))
    # Then one text is queued to her number now, in Spanish, with her own booking link
    assert outcome.action == "texted"
    (text,) = _texts(svc)
    assert text.phone == ANA and text.patient_id == "p-ana" and text.status == "queued"
    assert text.automated is False  # a direct answer: quiet hours do not hold it back
    assert text.body.startswith("Sentimos no haber atendido su llamada a Maple Family Dental")
    assert "https://api.maple.test/b/" in text.body
    assert svc.booking.link_for_ref(text.message_id).patient_id == "p-ana"
    # And the call itself is on her thread, as missed
    entry = svc.messages.get_message(calls.entry_id("c-1"))
    assert entry.outcome == "missed" and entry.patient_id == "p-ana"


def test_redelivered_late_and_second_calls_the_same_day_send_nothing_more(svc, people):
    # Given a missed call texted back
    first = _call(svc, "c-1", ANA, minutes_ago=30)
    handle_contact_event(svc, first)
    # When the same event comes again, and a second missed call from the number the same day
    again = handle_contact_event(svc, first)
    second = handle_contact_event(svc, _call(svc, "c-2", ANA, minutes_ago=5))
    # Then nothing more is sent, and both calls are in the inbox once each
    assert (again.action, second.action) == ("already_texted", "already_texted")
    assert len(_texts(svc)) == 1
    assert svc.messages.get_message(calls.entry_id("c-2")).outcome == "missed"
    assert len([m for m in svc.messages.messages_of_kind("call")]) == 2


def test_the_next_calendar_day_in_the_practice_zone_may_get_a_text_again(svc, people):
    handle_contact_event(svc, _call(svc, "c-1", ANA))
    # Given the practice's next day (the clock is 09:00 in New York)
    svc.clock.set(svc.clock.now() + timedelta(days=1))
    # When another call is missed
    outcome = handle_contact_event(svc, _call(svc, "c-2", ANA))
    # Then it gets its own text
    assert outcome.action == "texted" and len(_texts(svc)) == 2
    day = svc.clock.now().astimezone(svc.practice.zone).date().isoformat()
    assert outcome.text.message_id == text_back_id(ANA, day)


def test_an_opted_out_number_gets_no_text(svc, people):
    # Given Ana's number said STOP
    consent.record(svc.consent, svc.records, ConsentEntry(phone=ANA, action="opt_out", at=svc.clock.now(),
                                                          source="sms", words="STOP"))
    # When her call is missed
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA))
    # Then no text, but the call is in the inbox
    assert outcome.action == "opted_out" and _texts(svc) == []
    assert svc.messages.get_message(calls.entry_id("c-1")) is not None


@pytest.mark.parametrize("finished", ["booked", "confirmed", "answered", "transferred", "urgent", "rescheduled"])
def test_a_caller_the_agent_helped_gets_no_text(svc, people, finished):
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA, attributes={"careloopOutcome": finished}))
    assert outcome.action == "recorded" and outcome.outcome == finished and _texts(svc) == []


@pytest.mark.parametrize("unfinished", ["callback", "unresolved"])
def test_a_call_the_agent_could_not_finish_is_texted_back(svc, people, unfinished):
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA, attributes={"careloopOutcome": unfinished}))
    assert outcome.action == "texted" and len(_texts(svc)) == 1


def test_the_hooks_recorded_outcome_counts_when_the_contact_has_none(svc, people):
    # Given the code hook finished the caller's business, but the flow copied nothing
    calls.record_turn(svc, contact_id="c-1", caller_phone=ANA, patient_id="p-ana", locale="es_US",
                      caller_text="confirmo", agent_text="Confirmada.", intent="ConfirmAppointment",
                      at=svc.clock.now(), outcome="confirmed")
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA))
    assert outcome.outcome == "confirmed" and _texts(svc) == []


def test_a_call_a_person_answered_gets_no_text(svc, people):
    outcome = handle_contact_event(svc, _call(svc, "c-1", ANA, agent=True))
    assert outcome.action == "recorded" and _texts(svc) == []
    assert svc.messages.get_message(calls.entry_id("c-1")).outcome == "transferred"


@pytest.mark.parametrize("attributes", [{"careloopLocale": "es_US"}, {"careloopLanguage": "es"}])
def test_an_unknown_caller_is_texted_in_the_calls_language_with_the_practices_fixed_link(svc, people, attributes):
    outcome = handle_contact_event(svc, _call(svc, "c-1", STRANGER, attributes=attributes))
    (text,) = _texts(svc)
    assert outcome.action == "texted" and text.patient_id is None and text.phone == STRANGER
    assert text.body.startswith("Sentimos") and "https://book.example.test/maple" in text.body


def test_a_shared_number_gets_no_ones_personal_link(svc, people):
    handle_contact_event(svc, _call(svc, "c-1", SHARED))
    (text,) = _texts(svc)
    assert text.patient_id is None and "/b/" not in text.body and text.body.startswith("Sorry we missed your call")


def test_a_withheld_number_is_recorded_and_not_texted(svc, people):
    outcome = handle_contact_event(svc, _call(svc, "c-1", None))
    assert outcome.action == "no_number" and _texts(svc) == []


def test_other_event_types_are_ignored(svc, people):
    event = _call(svc, "c-1", ANA)
    event["detail"]["eventType"] = "CONNECTED_TO_SYSTEM"
    assert handle_contact_event(svc, event).action == "ignored"
    assert svc.messages.get_message(calls.entry_id("c-1")) is None


@pytest.mark.parametrize(("mangle", "problem"), [
    (lambda e: e.pop("detail"), "no detail"),
    (lambda e: e["detail"].pop("contactId"), "contactId"),
    (lambda e: e["detail"].pop("eventType"), "eventType"),
    (lambda e: (e["detail"].pop("instanceArn"), e.update(resources=[])), "instanceArn"),
    (lambda e: e.update({"detail-type": "Scheduled Event"}), "not an Amazon Connect Contact Event"),
])
def test_an_unreadable_event_is_refused_naming_the_problem(svc, people, mangle, problem):
    event = _call(svc, "c-1", ANA)
    mangle(event)
    with pytest.raises(ContactEventError, match=problem):
        handle_contact_event(svc, event)
    assert _texts(svc) == []


def test_an_unknown_contact_is_refused_so_the_event_is_kept(svc, people):
    event = missed_call_event("c-unknown", INSTANCE)
    with pytest.raises(ContactEventError, match="no such contact"):
        handle_contact_event(svc, event)


def test_the_connect_adapter_and_fake_offer_exactly_the_ports_methods():
    import inspect

    from careloop.adapters.connect import ConnectContacts
    from careloop.ports import ContactDirectory
    from careloop_local.fakes import MemoryContacts

    def public(cls):
        return {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}

    assert public(ContactDirectory) == public(ConnectContacts) == public(MemoryContacts) == {"describe"}
    for cls in (ConnectContacts, MemoryContacts):
        assert list(inspect.signature(cls.describe).parameters) == list(inspect.signature(ContactDirectory.describe).parameters)


def test_describe_contact_answers_are_read_with_keys_of_any_case():
    contact = contact_from_describe({
        "Id": "c-9", "Channel": "VOICE", "InitiationMethod": "INBOUND",
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": ANA},
        "systemEndpoint": {"address": "+16175550100"},
        "Attributes": {"careloopOutcome": "callback"}, "AgentInfo": {"Id": "a-1", "ConnectedToAgentTimestamp": 1.7e9},
        "DisconnectTimestamp": 1764658800.0, "SomethingNew": {"ignored": True},
    })
    assert contact.caller_phone == ANA and contact.practice_phone == "+16175550100"
    assert contact.attributes == {"careloopOutcome": "callback"} and contact.reached_agent
    assert contact.disconnected_at == datetime.fromtimestamp(1764658800.0, UTC)


def test_a_text_stored_before_a_crash_is_handed_over_by_the_redelivery(svc, people):
    # Given the send queue failed right after the text was stored
    event = _call(svc, "c-1", ANA)
    real = svc.outbox.enqueue

    def broken(message):
        raise ConnectionError("queue unreachable")

    svc.outbox.enqueue = broken
    with pytest.raises(ConnectionError):
        handle_contact_event(svc, event)
    # When EventBridge delivers the event again
    svc.outbox.enqueue = real
    handle_contact_event(svc, event)
    handle_contact_event(svc, event)
    # Then the stored text is handed over, once
    (text,) = _texts(svc)
    assert text.message_id == text_back_id(ANA, svc.clock.now().astimezone(svc.practice.zone).date().isoformat())


def test_the_published_sample_text_reads_as_it_is_and_a_string_detail_too():
    from careloop.voice.contact import lenient_json
    from tests.connect_samples import SAMPLE

    # Given the sample's text exactly as published (a trailing comma), and the same event with
    # its detail as the JSON string PutEvents takes
    event = lenient_json(SAMPLE.read_text(encoding="utf-8"))
    assert event == published_event()
    as_put = {**event, "detail": json.dumps(event["detail"])}
    # Then both read the same
    assert parse_contact_event(as_put) == parse_contact_event(event)
    assert lenient_json("{not json") is None


# ---- the flow's own callback, and the text's budget ------------------------------------------------


def _callback_tasks(svc):
    return [m for m in svc.messages.messages_of_kind("task") if m.step == "callback"]


def test_an_after_hours_callback_the_flow_promised_becomes_one_front_desk_task(svc, people):
    # Given a call the flow ended after hours (careloopOutcome callback), with no task from the agent
    event = _call(svc, "c-after", ANA, attributes={"careloopOutcome": "callback"})
    # When its end is delivered, and delivered again
    first = handle_contact_event(svc, event)
    again = handle_contact_event(svc, copy.deepcopy(event))
    # Then the front desk has one task to call the caller back, on the patient's thread, notified once
    (task,) = _callback_tasks(svc)
    assert (task.team, task.status, task.patient_id, task.phone, task.contact_id) == (
        "front_desk", "open", "p-ana", ANA, "c-after")
    assert [m.message_id for m in svc.notifier.notified] == [task.message_id]
    assert first.action == "texted" and again.action == "already_texted"


def test_a_callback_the_agent_already_made_a_task_for_gets_no_second_one(svc, people):
    # Given the agent took the callback itself (its task, and the outcome on the call's log)
    from careloop.voice.hook import handle_lex_event
    from tests.unit.test_voice_hook import lex_event

    handle_lex_event(svc, lex_event("FallbackIntent", "blorp quux zibble", caller=ANA, contact="c-agent"))
    assert calls.call_outcome(svc, "c-agent") == "callback" and len(_callback_tasks(svc)) == 1
    # When the call ends with that callback on the contact
    handle_contact_event(svc, _call(svc, "c-agent", ANA, attributes={"careloopOutcome": "callback"}))
    # Then the agent's task is the only one
    (task,) = _callback_tasks(svc)
    assert task.contact_id == "c-agent" and "could not place" in task.reason


def test_a_withheld_number_after_hours_makes_no_task_nobody_could_do(svc, people):
    handle_contact_event(svc, _call(svc, "c-anon", None, attributes={"careloopOutcome": "callback"}))
    assert _callback_tasks(svc) == []


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", ["P" * 40, "Clínica Dental Peña & Asociados de Boston"[:40], "Maple Family Dental"])
def test_the_text_back_fits_three_parts_for_a_40_character_name_and_a_50_character_link(svc, language, name):
    from careloop.sms.parts import parts_and_encoding
    from careloop.voice.missed import TEXT_BACK_MAX_PARTS, text_back_body

    svc.practice = svc.practice.model_copy(update={"name": name})
    link = "https://book.example.test/b/" + "x" * 22
    assert len(link) == 50 and len(name) <= 40
    for url in (link, ""):
        body = text_back_body(svc, language, url)
        parts, _ = parts_and_encoding(body)
        assert name in body and (url in body) and parts <= TEXT_BACK_MAX_PARTS == 3, (body, parts)
    # the wording itself needs no UCS-2: only an accented practice name may
    assert parts_and_encoding(text_back_body(svc, language, link))[1] == ("GSM" if name.isascii() else "UCS2")
