"""Analytics: delivery, response, confirmation, no-show and recovery rates, by workflow,
provider, location and week, and the CSV export."""

from __future__ import annotations

from datetime import datetime, timedelta

from careloop import inbox
from careloop.agent import inbound
from careloop.engine.dispatcher import tick
from careloop.models import Appointment, Patient
from careloop.records import ingest
from tests.conftest import NY


def test_rates_and_breakdowns(svc):
    t0 = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id=f"p{i}", first_name=f"P{i}", phone=f"+1617555{1000 + i}") for i in range(3)],
           [Appointment(id="a0", patient_id="p0", start=t0 + timedelta(days=3), provider="Dr. Lee", location="main"),
            Appointment(id="a1", patient_id="p1", start=t0 + timedelta(days=3, hours=2), provider="Dr. Patel", location="main"),
            Appointment(id="a2", patient_id="p2", start=t0 + timedelta(days=3, hours=4), provider="Dr. Lee")], t0)
    svc.clock.set(t0 + timedelta(days=1, hours=5))
    tick(svc)
    for m in svc.outbox.sent:  # the carrier delivered them
        svc.messages.update_message(m.message_id, status="delivered")
    inbound.handle_inbound(svc, "+16175551000", "C", "in-1")
    # a2 was a no-show, and the patient rebooked afterwards
    svc.clock.set(t0 + timedelta(days=4))
    ingest(svc.records, svc.consent, [], [Appointment(id="a2", patient_id="p2", start=t0 + timedelta(days=3, hours=4), provider="Dr. Lee",
                                       status="noshow")], svc.clock.now())
    svc.clock.set(t0 + timedelta(days=4, hours=1))
    ingest(svc.records, svc.consent, [], [Appointment(id="a3", patient_id="p2", start=t0 + timedelta(days=9), provider="Dr. Lee")], svc.clock.now())

    out = inbox.analytics(svc, datetime(2026, 11, 20, tzinfo=NY), datetime(2026, 12, 31, tzinfo=NY))
    assert (out["no_shows"], out["recovered"], out["recovery_rate"]) == (1, 1, 1.0)
    assert out["confirmation_rate"] == round(1 / 3, 4) and out["delivery_rate"] > 0
    lee = next(r for r in out["by_provider"] if r["name"] == "Dr. Lee")
    assert (lee["appointments"], lee["confirmed"], lee["no_shows"]) == (3, 1, 1)
    assert {r["name"] for r in out["by_location"]} == {"Main", "(none)"}
    assert out["by_week"] and sum(w["sent"] for w in out["by_week"]) == len([m for m in svc.outbox.sent if m.automated])
    csv_text = inbox.analytics_csv(out)
    assert "recovery_rate,1.0" in csv_text and "Dr. Lee" in csv_text and "week,sent" in csv_text


def test_a_workflow_text_records_the_version_that_sent_it(svc):
    # Given a booking, when the reminder goes out, then the text names the workflow's version
    t0 = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id="pv", first_name="V", phone="+16175551099")],
           [Appointment(id="av", patient_id="pv", start=t0 + timedelta(days=3))], t0)
    svc.clock.set(t0 + timedelta(days=1, hours=5))
    tick(svc)
    sent = [m for m in svc.outbox.sent if m.workflow == "appointment-reminder"]
    version = next(w.version for w in svc.workflows if w.id == "appointment-reminder")
    assert sent and all(m.workflow_version == version for m in sent)
    stored = svc.messages.get_message(sent[0].message_id)
    assert stored is not None and stored.workflow_version == version
