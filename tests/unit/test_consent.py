"""The consent ledger and the sender's last-moment consent check."""

from __future__ import annotations

from datetime import datetime, timedelta

from careloop import consent
from careloop.errors import SendError
from careloop.models import Message, MessageStatus, Patient
from careloop.sms.sender import send_queued
from tests.conftest import NY

AT = datetime(2026, 12, 1, 9, tzinfo=NY)
PHONE = "+16175550103"


class FakeChannel:
    def __init__(self, fail: SendError | None = None):
        self.sent, self.opted_out, self.fail = [], [], fail

    def send(self, to, body, context):
        if self.fail:
            raise self.fail
        self.sent.append((to, body, context))
        return f"prov-{len(self.sent)}"

    def opt_out(self, phone):
        self.opted_out.append(phone)

    def opt_in(self, phone):
        self.opted_out.remove(phone)


def family(svc):
    for pid, name in (("mom", "Maria"), ("kid", "Leo")):
        svc.records.put_patient(Patient(id=pid, first_name=name, phone=PHONE))


def entry(action, at=AT, **kw):
    return consent.ConsentEntry(phone=PHONE, action=action, at=at, source="sms", words="STOP", text="STOP", **kw)


def queue(svc, mid, *, automated=True, workflow="appointment-reminder", step="reminder-48h", at=AT, patient="kid"):
    svc.messages.put_message(Message(message_id=mid, kind="sms_out", patient_id=patient, phone=PHONE, body="hi",
                                  at=at, status=MessageStatus.QUEUED, automated=automated, workflow=workflow, step=step))


def test_opt_out_covers_every_patient_on_the_number_and_keeps_proof(svc):
    family(svc)
    assert consent.record(svc.consent, svc.records, entry("opt_out", message_id="in-1")) is True
    assert consent.record(svc.consent, svc.records, entry("opt_out", at=AT + timedelta(minutes=1), message_id="in-2")) is False
    assert {p.id: p.opted_out for p in svc.records.all_patients()} == {"mom": True, "kid": True}
    history = consent.entries(svc.consent, PHONE)
    assert [(e.action, e.message_id) for e in history] == [("opt_out", "in-1"), ("opt_out", "in-2")]
    assert sorted(history[0].patient_ids) == ["kid", "mom"]
    csv_text = consent.export_csv(svc.consent)
    assert csv_text.splitlines()[0].startswith("at,phone,action") and PHONE in csv_text


def test_opt_in_restores(svc):
    family(svc)
    consent.record(svc.consent, svc.records, entry("opt_out"))
    assert consent.record(svc.consent, svc.records, entry("opt_in", at=AT + timedelta(days=1))) is True
    assert not consent.is_opted_out(svc.consent, PHONE)
    assert all(not p.opted_out for p in svc.records.all_patients())


def test_stop_arriving_while_a_reminder_is_queued_suppresses_it(svc):
    # Given a reminder already on the send queue
    family(svc)
    queue(svc, "m1")
    # When STOP arrives before the sender picks it up
    consent.record(svc.consent, svc.records, entry("opt_out"))
    channel = FakeChannel()
    outcome = send_queued(svc, channel, "m1")
    # Then nothing goes out
    assert outcome.status == "suppressed" and channel.sent == []
    assert svc.messages.get_message("m1").status == MessageStatus.SUPPRESSED


def test_only_the_confirmation_passes_and_then_the_carrier_list_is_updated(svc):
    family(svc)
    consent.record(svc.consent, svc.records, entry("opt_out"))
    queue(svc, "conf", automated=False, workflow="sms-agent", step="opt_out")
    queue(svc, "staff", automated=False, workflow="staff", step="reply")
    channel = FakeChannel()
    assert send_queued(svc, channel, "conf").status == "sent"
    assert send_queued(svc, channel, "staff").status == "suppressed"
    assert [c[2]["message_id"] for c in channel.sent] == ["conf"] and channel.opted_out == [PHONE]


def test_unknown_number_opt_out_is_honoured_by_phone(svc):
    consent.record(svc.consent, svc.records, entry("opt_out"))
    queue(svc, "m2", patient=None)
    assert send_queued(svc, FakeChannel(), "m2").status == "suppressed"


def test_redelivered_send_and_errors(svc):
    family(svc)
    queue(svc, "m3")
    channel = FakeChannel()
    assert send_queued(svc, channel, "m3").status == "sent"
    assert send_queued(svc, channel, "m3").status == "duplicate" and len(channel.sent) == 1
    queue(svc, "m4")
    permanent = FakeChannel(SendError("ConflictException", permanent=True, code="DESTINATION_PHONE_NUMBER_OPTED_OUT"))
    assert send_queued(svc, permanent, "m4").status == "failed"
    assert svc.messages.get_message("m4").status_detail == "DESTINATION_PHONE_NUMBER_OPTED_OUT"


def test_consent_export_escapes_formulas_like_every_csv_the_product_writes(svc):
    # Given proof texts that a spreadsheet would run as formulas (issue #10, item 14)
    import csv
    import io

    from careloop import csvout

    family(svc)
    for i, text in enumerate(['=HYPERLINK("http://evil.example","x")', "+1-800", "-2+3", "@SUM(A1)", "\tcmd"]):
        consent.record(svc.consent, svc.records, consent.ConsentEntry(phone=PHONE, action="opt_out" if i % 2 == 0 else "opt_in",
                                                       at=AT + timedelta(minutes=i), source="sms", words=text[:10],
                                                       text=text, message_id=f"inj-{i}"))
    # When exported / Then no cell starts with a formula character, and the text is still all there
    rows = list(csv.reader(io.StringIO(consent.export_csv(svc.consent))))
    cells = [c for row in rows[1:] for c in row]
    assert not any(c[:1] in ("=", "+", "-", "@", "\t") for c in cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells
    # and numbers are left alone by the one helper every CSV uses
    assert csvout.cell(-3) == -3 and csvout.cell("-3") == "'-3" and csvout.cell("ok") == "ok"
