"""`careloop cost` (issue 15 item 7): the counts of a small month by hand, the capacity-unit and
price arithmetic, the dated price table's sources, and the command's JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from datetime import date

import pytest

from careloop import ports
from careloop.models import Appointment, Patient
from careloop.sms.parts import count_parts
from careloop_local.cost import (
    DELIVERY_EVENTS,
    DISPATCHER_TICKS,
    Month,
    load_prices,
    measure_month,
    price,
)
from careloop_local.costmeter import DYNAMO_CALLS, DynamoCall, Meter
from careloop_local.simulate import simulate

START = "2026-12-01T08:00:00-05:00"


def one_visit_month() -> dict:
    """One patient, one visit three days out, booked at the start; the month ends before it."""
    return {
        "start": START, "until": "2026-12-03T20:00:00-05:00",
        "patients": [{"id": "p1", "first_name": "Ana", "last_name": "Diaz", "phone": "+16175550101"}],
        "events": [{"at": START, "type": "appointment",
                    "appointment": {"id": "a1", "patient": "p1", "start": "2026-12-04T10:00:00-05:00",
                                    "provider": "Dr. Lee", "visit_type": "cleaning"}}],
    }


def test_a_hand_counted_month():
    # Given one booking the EHR sends once, and the texts the simulator says go out for it
    texts = [line for line in simulate(one_visit_month())[0] if line["kind"] == "sms"]
    assert len(texts) == 2  # the 48 h reminder and, with no reply, the 24 h nudge
    # When the same month is run on counted ports
    month = measure_month(one_visit_month(), voice=False)
    q, f = month.quantities, month.functions
    # Then every text is one send-queue message, its parts are billed, and each of its delivery
    # events is one SNS publish and one sms_events invocation
    assert q["sms.parts_out"] == sum(count_parts(t["body"]) for t in texts)
    assert month.counts["texts_out"] == 2
    assert f["sms_events"]["invocations"] == 2 * len(DELIVERY_EVENTS)
    assert q["sns.publishes"] == 2 * len(DELIVERY_EVENTS)
    # one webhook (one API request, one archived payload), one stream record for the planner
    assert f["ehr_webhook"]["invocations"] == 1
    assert q["s3.put_requests"] == 1
    assert f["planner"]["invocations"] == 1
    # the dispatcher runs every minute of the month, work or not; the texts were sent in two ticks
    assert f["dispatcher"]["invocations"] == DISPATCHER_TICKS
    assert f["sms_sender"]["invocations"] == 2
    assert q["sms.parts_in"] == 0 and q["bedrock.input_tokens"] == 0  # nobody texted in
    assert "voice" not in f and "connect.minutes" not in q


def test_capacity_units_follow_item_sizes_and_indexes():
    meter = Meter()
    big = Patient(id="p1", first_name="A" * 5000, phone="+16175550101")  # a >4 KB, >4 KB item
    small = Appointment(id="a1", patient_id="p1", start="2026-12-04T10:00:00-05:00")
    with meter.running("planner"):
        meter.dynamo("records.get_patient", DynamoCall("get", "records"), ("p1",), big)
        meter.dynamo("records.get_appointment", DynamoCall("get", "records"), ("a1",), None)
        meter.dynamo("records.put_patient", DynamoCall("put", "records", gsis=2), (big,), True)
        meter.dynamo("actions.due_actions", DynamoCall("query", "actions", requests=4), (), [])
    # a consistent get: one unit per 4 KB (2 for the big item), a miss still one
    assert meter.read_units["records"] == 2 + 1
    # a 5 KB put copied to two indexes: 5 units, three times
    assert meter.write_units["records"] == 5 * 3
    # an index query is eventually consistent: half a unit each, one per shard even when empty
    assert meter.read_units["actions"] == 4 * 0.5
    assert meter.functions["planner"].dynamo_requests == 1 + 1 + 1 + 4
    assert meter.functions["planner"].invocations == 1
    # and nothing is counted outside a function, or while the meter is off
    meter.dynamo("records.get_appointment", DynamoCall("get", "records"), ("a1",), small)
    with meter.off(), meter.running("planner"):
        meter.dynamo("records.get_appointment", DynamoCall("get", "records"), ("a1",), small)
    assert meter.read_units["records"] == 3 and meter.functions["planner"].invocations == 1


def test_pricing_arithmetic():
    table = {"name": "t", "read": "2026-12-02", "prices": {
        "lambda.requests": {"service": "Lambda", "item": "requests", "unit": "request", "usd": 0.20, "per": 1e6},
        "sms.parts_out": {"service": "SMS", "item": "parts", "unit": "part", "usd": 0.01, "per": 1},
        "waf.rules": {"service": "WAF", "item": "rules", "unit": "rule-month", "usd": 1.0, "per": 1},
    }}
    month = Month(patients=4, locations=2, quantities={"lambda.requests": 3e6, "sms.parts_out": 7, "waf.rules": 3},
                  basis={"waf.rules": "fixed"}, functions={}, assumptions=[])
    bill = price(month, table)
    costs = {line.item: line.cost for line in bill.lines}
    assert costs == pytest.approx({"requests": 0.60, "parts": 0.07, "rules": 3.0})
    assert bill.total == pytest.approx(3.67)
    assert bill.per_patient == pytest.approx(3.67 / 4) and bill.per_location == pytest.approx(3.67 / 2)
    assert {line.item: line.basis for line in bill.lines}["rules"] == "fixed"
    with pytest.raises(KeyError, match="no price for 'sns.publishes'"):
        price(Month(1, 1, {"sns.publishes": 1}, {}, {}, []), table)


def test_every_price_has_a_source_and_a_date():
    table = load_prices()
    assert table["name"].endswith(table["read"][:7])  # the file is named for the month it was read
    assert date.fromisoformat(table["read"]) <= date.today()
    for key, p in table["prices"].items():
        assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9-]+/pricing/([a-z-]+/)?", p["source"]), key
        assert date.fromisoformat(p["read"]) <= date.today(), key
        assert p["status"] in table["statuses"], key
        if p["status"] == "confirmed-secondary":
            assert p["seen_at"].startswith("https://"), key
        assert p["usd"] > 0 and p.get("per", 1) > 0, key
    # and every quantity a month produces has its price
    assert set(measure_month(one_visit_month()).quantities) <= set(table["prices"])


def test_every_persistence_port_method_is_mapped_to_its_dynamodb_call():
    protocols = {"records": ports.RecordStore, "actions": ports.ActionStore, "messages": ports.MessageStore,
                 "consent": ports.ConsentLedgerStore, "configs": ports.ConfigStore, "inbox": ports.InboxStore,
                 "analytics": ports.AnalyticsSource, "booking": ports.BookingStore, "access_log": ports.AccessLogStore}
    for name, protocol in protocols.items():
        methods = {m for m in dir(protocol) if not m.startswith("_") and callable(getattr(protocol, m))}
        methods -= set(dir(typing.Protocol))
        assert methods <= set(DYNAMO_CALLS[name]), (name, methods - set(DYNAMO_CALLS[name]))


def test_cost_command_prices_500_patients_as_json():
    res = subprocess.run([sys.executable, "-m", "careloop_local.cli", "cost", "--patients", "500", "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    bill = json.loads(res.stdout)
    assert bill["patients"] == 500 and bill["locations"] == 1
    assert bill["total"] == pytest.approx(sum(line["cost"] for line in bill["lines"]))
    assert bill["per_patient"] == pytest.approx(bill["total"] / 500)
    services = set(bill["by_service"])
    assert {"Lambda", "DynamoDB", "SQS", "SNS", "API Gateway", "CloudFront", "KMS", "Secrets Manager",
            "CloudWatch", "WAF", "SMS", "Connect", "Lex", "Bedrock"} <= services
    assert {line["basis"] for line in bill["lines"]} == {"counted", "estimated", "fixed"}
    assert bill["functions"]["dispatcher"]["invocations"] == DISPATCHER_TICKS
    assert bill["assumptions"]  # every estimate says what it assumed


def test_cost_command_refuses_a_practice_without_patients():
    res = subprocess.run([sys.executable, "-m", "careloop_local.cli", "cost", "--patients", "0"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "--patients 0" in res.stderr and not res.stdout
