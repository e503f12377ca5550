"""DynamoDB throttling and conditional-check races (answered at the botocore layer, so the
adapters see real ClientErrors and moto's own condition failures), handlers killed mid-batch,
duplicate SQS deliveries and the dispatcher killed mid-tick, on the booking -> reminder and the
inbound text -> reply flows: nothing lost, nothing twice, nothing left claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from careloop import consent
from careloop.models import ActionStatus, MessageStatus
from careloop_local.faults import key_is, sets_status
from tests.faults.conftest import (
    REMINDER,
    assert_reminded_once,
    book,
    dlq_depths,
    sent_to,
    settle,
    text_in,
)


def test_a_throttling_storm_on_every_table_call_loses_and_repeats_nothing(stack, ports, faults):
    # Given five reminders due, and a third of the handlers' DynamoDB calls throttled (each one
    # retried by botocore; a call throttled three times in a row reaches the code as a ClientError)
    booked = book(stack, ports, 5, "storm")
    faults.error("dynamodb", None, count=10**6, rate=0.33, function="*")
    # When the schedule, the queues and the carrier's events run through it
    settle(stack, rounds=10)
    hit = +faults.injected
    faults.clear()
    faults.injected.update(hit)
    settle(stack)
    # Then every reminder went out once and is recorded, and the storm really hit the handlers
    assert sum(faults.injected.values()) >= 20
    assert_reminded_once(stack, ports, booked)
    assert sum(dlq_depths(stack).values()) == 0


@pytest.mark.parametrize(("what", "match"), [
    ("the dispatcher's claim", sets_status("claimed")),
    ("the dispatcher's hand-over", sets_status("sent", "-actions")),
    ("the sender's queued -> sending", sets_status("sending")),
    ("the sender's sending -> sent", sets_status("sent", "-messages")),
])
def test_a_write_throttled_past_botocores_retries_is_finished_by_a_retry(stack, ports, faults, what, match):
    # Given a reminder due, and one write throttled three times running (botocore gives up)
    booked = book(stack, ports, 1, "thr-" + what.split()[1][:5] + what[-4:].strip())
    faults.error("dynamodb", "UpdateItem", count=3, match=match, function="*")
    settle(stack)
    # Then the retry (the next tick, the queue's redelivery, or the carrier's event) finished it, once
    assert faults.injected[("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException")] == 3, what
    assert_reminded_once(stack, ports, booked)


def test_two_dispatchers_claiming_one_action_send_it_once(stack, ports, faults):
    from careloop.adapters.aws import services
    from careloop.engine.dispatcher import tick

    # Given a reminder due, and a second dispatcher whose whole tick runs between the first one's
    # read of the due actions and its conditional claim write
    booked = book(stack, ports, 1, "race-claim")
    stack.drain()
    action = next(a for a in ports.actions.actions_for_subject(f"APT#{booked.appointments[0].id}"))
    other: list = []
    faults.before("dynamodb", "UpdateItem", lambda: other.append(tick(services())),
                  match=lambda b: key_is("action_id", action.action_id)(b) and sets_status("claimed")(b),
                  function="dispatcher")
    summary = stack.dispatch()
    settle(stack)
    # Then the other one sent it, this one lost the claim (moto's condition), and it went once
    assert other[0].sent == [action.action_id] and summary["lost"] == 1, (summary, other)
    assert_reminded_once(stack, ports, booked)


def test_two_senders_racing_for_one_text_send_it_once(stack, ports, faults):
    from careloop.adapters.aws import services, sms_channel
    from careloop.sms.sender import send_queued

    # Given a reminder queued, and a second sender that sends it between this sender's read of
    # the message (queued) and its conditional queued -> sending write
    booked = book(stack, ports, 1, "race-send")
    stack.drain()
    stack.dispatch()
    mid = next(m.message_id for m in ports.messages.messages_for_patient(booked.patients[0].id) if m.step == REMINDER)
    other: list = []
    faults.before("dynamodb", "UpdateItem", lambda: other.append(send_queued(services(), sms_channel(), mid)),
                  match=sets_status("sending"), function="sms_sender")
    settle(stack)
    assert [o.status for o in other] == ["sent"]
    assert_reminded_once(stack, ports, booked)


def test_a_stale_claim_is_taken_over_by_one_of_two_dispatchers(stack, ports, faults):
    # Given a due action whose dispatcher died after claiming it, the lease long past
    booked = book(stack, ports, 1, "stale")
    stack.drain()
    action = ports.actions.actions_for_subject(f"APT#{booked.appointments[0].id}")[0]
    old = stack.clock.now() - timedelta(minutes=30)
    assert ports.actions.transition_action(action.action_id, ActionStatus.PENDING, ActionStatus.CLAIMED, claimed_at=old)
    # When two dispatchers both saw it stale: one conditional write on the claim's time each
    now = stack.clock.now()
    assert ports.actions.reclaim_action(action.action_id, old, now) is True
    assert ports.actions.reclaim_action(action.action_id, old, now) is False
    # Then the claim is the winner's (fresh: the next tick leaves it), and after its lease it is
    # taken over and sent, once
    stack.dispatch()
    held = ports.actions.get_action(action.action_id)
    assert held.status == ActionStatus.CLAIMED and held.claimed_at == now.replace(microsecond=0)  # stored to the second
    settle(stack)
    assert_reminded_once(stack, ports, booked)


@pytest.mark.parametrize("k", [1, 3])
def test_the_dispatcher_killed_mid_tick_leaves_nothing_claimed_forever(stack, ports, faults, k):
    # Given four reminders due, and the dispatcher's process dying right after its k-th claim
    booked = book(stack, ports, 4, f"kill-tick-{k}")
    stack.drain()
    faults.kill_after("dynamodb", "UpdateItem", k, match=sets_status("claimed"), function="dispatcher")
    assert stack.dispatch().get("crashed") == 1
    claimed = [a for appt in booked.appointments for a in ports.actions.actions_for_subject(f"APT#{appt.id}")
               if a.status == ActionStatus.CLAIMED]
    assert len(claimed) >= 1
    # When the schedule goes on (the claims' lease runs out)
    settle(stack)
    # Then every reminder went once, none is left claimed
    assert_reminded_once(stack, ports, booked)


def test_the_dispatcher_killed_after_handing_over_does_not_queue_twice(stack, ports, faults):
    # Given a reminder due, and the dispatcher dying right after it queued the text (before it
    # marked the action sent)
    booked = book(stack, ports, 1, "kill-enqueue")
    stack.drain()
    faults.kill_after("sqs", "SendMessage", 1, function="dispatcher")
    assert stack.dispatch().get("crashed") == 1
    settle(stack)
    assert_reminded_once(stack, ports, booked)


@pytest.mark.parametrize("k", [0, 2])
def test_the_sender_killed_mid_batch_sends_each_text_once(stack, ports, faults, k):
    # Given four reminders queued, and the sender dying after k records of its batch of four
    booked = book(stack, ports, 4, f"kill-send-{k}")
    stack.drain()
    stack.dispatch()
    faults.kill_after_records("sms_sender", k)
    settle(stack)
    # Then the batch came back (nothing of it acknowledged) and each text went once
    assert any(c["function"] == "sms_sender" for c in stack.crashes)
    assert_reminded_once(stack, ports, booked)


def test_the_sender_killed_after_the_carrier_took_the_text_does_not_send_it_again(stack, ports, faults):
    # Given a reminder queued, and the sender dying right after SendTextMessage returned
    booked = book(stack, ports, 1, "kill-after-send")
    stack.drain()
    faults.kill_after("pinpoint-sms-voice-v2", "SendTextMessage", 1, function="sms_sender")
    settle(stack)
    # Then the redelivery found it sending and left it; the carrier's events marked it delivered
    # (with the carrier's id), so no staff task about a text that may not have gone out is needed
    assert faults.kills == 1
    assert_reminded_once(stack, ports, booked)
    text = next(m for m in ports.messages.messages_for_patient(booked.patients[0].id) if m.step == REMINDER)
    assert text.status == MessageStatus.DELIVERED


def test_the_planner_killed_mid_batch_plans_every_reminder_once(stack, ports, faults):
    # Given five bookings on the records table's stream, and the planner dying after two records
    faults.kill_after_records("planner", 2)
    booked = book(stack, ports, 5, "kill-plan")
    settle(stack)
    # Then the stream batch was delivered again, every reminder planned and sent once
    assert any(c["function"] == "planner" for c in stack.crashes)
    assert_reminded_once(stack, ports, booked)


def _inbound_ledger(stack, ports, booked):
    """Per patient: replies the carrier took, appointment confirmed, STOP recorded."""
    return {p.id: (len(sent_to(stack, p.phone)), ports.records.get_appointment(a.id).confirmed)
            for p, a in zip(booked.patients, booked.appointments, strict=True)}


@pytest.mark.parametrize("fault", ["killed after 1 record", "duplicate", "duplicate, concurrent"])
def test_inbound_texts_are_answered_once_whatever_the_queue_does(stack, ports, faults, fault):
    # Given three patients with a visit, texting "Yes" (confirm) and one texting STOP
    tag = "in-" + fault.split()[0][:4] + ("-c" if "concurrent" in fault else "")
    booked = book(stack, ports, 4, tag, hours_ahead=72)
    settle(stack)
    before = {p.id: len(sent_to(stack, p.phone)) for p in booked.patients}
    if fault.startswith("killed"):
        faults.kill_after_records("sms_inbound", 1)
    else:
        faults.duplicate_deliveries("inbound", concurrent="concurrent" in fault)
        faults.duplicate_deliveries("send", concurrent="concurrent" in fault)
    for p in booked.patients[:3]:
        text_in(stack, p.phone, "Yes")
    text_in(stack, booked.patients[3].phone, "STOP")
    settle(stack)
    # Then each got one answer, each visit is confirmed once, the STOP has one proof row
    for p, a in zip(booked.patients[:3], booked.appointments[:3], strict=True):
        assert len(sent_to(stack, p.phone)) - before[p.id] == 1, p.id
        assert ports.records.get_appointment(a.id).confirmed is True
    stop = booked.patients[3]
    assert len(sent_to(stack, stop.phone)) - before[stop.id] == 1
    assert consent.is_opted_out(ports.consent, stop.phone)
    assert len([e for e in ports.consent.consent_entries(stop.phone) if e.get("action") == "opt_out"]) == 1
    assert sum(dlq_depths(stack).values()) == 0
