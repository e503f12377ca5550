"""Consent order within a second (issue #10, item 3): the ledger orders requests by time to the
microsecond and the carrier's arrival time, never by a hash, so the latest request always wins,
also in bursts, and a family member added on the number afterwards inherits that state."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from careloop import consent
from careloop.agent.inbound import handle_inbound
from careloop.models import Patient
from careloop.records import ingest

PHONE = "+16175550166"


@pytest.mark.parametrize("seed", range(12))
def test_a_burst_of_start_stop_pairs_ends_in_the_latest_state(svc, seed):
    # Given a patient on the number, and START / STOP pairs 0.1-1.4 s apart, in a random order
    rng = random.Random(seed)
    ingest(svc.records, svc.consent, [Patient(id="p", first_name="Ana", phone=PHONE)], [], svc.clock.now())
    t = svc.clock.now()
    sequence = [rng.choice(["START", "STOP"]) for _ in range(rng.randint(2, 7))]
    for i, word in enumerate(sequence):
        t += timedelta(milliseconds=rng.randint(100, 1400))
        handle_inbound(svc, PHONE, word, f"burst-{seed}-{i}", at=t)
    # Then the number is in the state of the last request
    assert consent.is_opted_out(svc.consent, PHONE) is (sequence[-1] == "STOP")
    assert svc.records.get_patient("p").opted_out is (sequence[-1] == "STOP")
    # and a family member added on that number afterwards is in that state too
    ingest(svc.records, svc.consent, [Patient(id="kid", first_name="Leo", phone=PHONE)], [], t + timedelta(seconds=1))
    assert svc.records.get_patient("kid").opted_out is (sequence[-1] == "STOP")


def test_start_then_stop_half_a_second_apart_is_opted_out_whatever_the_message_ids(svc):
    # the old key sorted within a second by message id: try ids that sort both ways
    for a, b in (("zzz", "aaa"), ("aaa", "zzz")):
        phone = f"+1617555{0 if a == 'zzz' else 1}177"
        t = svc.clock.now() + timedelta(seconds=10)
        handle_inbound(svc, phone, "START", a + phone, at=t)
        handle_inbound(svc, phone, "STOP", b + phone, at=t + timedelta(milliseconds=500))
        assert consent.is_opted_out(svc.consent, phone)


def test_an_exact_tie_counts_the_opt_out_as_later(svc):
    at = svc.clock.now()
    for action, mid in (("opt_out", "b"), ("opt_in", "a")):
        consent.record(svc.consent, svc.records, consent.ConsentEntry(phone=PHONE, action=action, at=at, source="sms", message_id=mid))
    assert consent.is_opted_out(svc.consent, PHONE)
