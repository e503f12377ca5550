"""`careloop cost`: what AWS charges one practice for a month, priced from a simulated month
(the real simulator on counted ports) with the dated price table in careloop_local/data.

Counted: what the core does (DynamoDB units, texts and their parts, queue and topic requests,
invocations, LLM tokens). Estimated, each with its assumption printed: staff and patient browser
traffic, calls to the voice agent, log bytes, KMS data-key refreshes. Fixed: the stack's own
resources (alarms, keys, the web ACL and its rules, the number, the 10DLC campaign).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from careloop import wiring
from careloop.errors import ConfigError
from careloop.sms.parts import count_parts
from careloop_local.costmeter import DYNAMO_CALLS, CountingPort, Meter
from careloop_local.simulate import Simulation, parse_scenario

PRICES_FILE = Path(__file__).parent / "data" / "prices-us-east-1-2026-12.json"
MONTH_HOURS = 720  # 30 days
DISPATCHER_TICKS = 30 * 24 * 60  # EventBridge rate(1 minute) for 30 days, work or not

# The deployed stack's fixed parts, as the demo profile synthesizes them (tests/infra checks
# these against the template: a branch that adds an alarm or a rule updates them there).
STACK_RESOURCES = {"alarms": 38, "dashboards": 1, "kms_keys": 2, "web_acls": 1, "waf_rules": 9,
                   "queues": 13, "topics": 4, "tables": 4, "log_groups": 17}
# SQS queues a Lambda event source polls (the rest are DLQs, read by nobody until an alarm)
POLLED_QUEUES = len(wiring.queues())
DELIVERY_EVENTS = ("TEXT_QUEUED", "TEXT_SUCCESSFUL", "TEXT_DELIVERED")  # per text, on TEXT_ALL


@dataclass(frozen=True)
class Assumptions:
    """What cannot be counted from the simulator, each stated in the output."""

    staff_per_location: int = 2
    staff_hours_per_day: float = 8
    workdays: int = 22
    api_requests_per_staff_hour: int = 60  # the inbox reloads its lists about once a minute
    app_loads_per_staff_day: int = 4
    app_load_bytes: int = 113_000  # web/dist index.html + app.js + app.css
    app_load_requests: int = 3
    booking_link_open_rate: float = 0.3  # of the personal links the texts carried
    booking_page_bytes: int = 17_000  # booking.html + booking.js + booking.css
    booking_page_requests: int = 3  # the page (API) + types + slots
    voice_calls_per_patient: float = 0.02  # after-hours and overflow calls the agent answers
    voice_minutes_per_call: float = 2.5
    voice_turns_per_call: int = 6  # Lex speech requests, each a voice-λ turn
    inbox_dynamo_requests: int = 12  # a staff list or thread: a few index queries and gets
    lambda_base_ms: float = 15  # handler, parsing, Powertools, per invocation
    dynamo_ms: float = 6  # one DynamoDB round trip in-region
    api_ms: float = 20  # one SQS / SNS / S3 / SMS / Secrets Manager round trip
    llm_ms: float = 900  # one Bedrock Converse call with forced tool use
    init_s: float = 0.6  # a cold start's billed INIT (the handler imports; make bench)
    log_bytes_per_invocation: int = 900  # START/END/REPORT (JSON) + one application line
    log_retention_months: int = 12  # infra.common.LOG_RETENTION
    kms_requests_per_resource_hour: int = 12  # a data key reused for 5 minutes per encrypted resource
    custom_metrics: int = 25  # Powertools metric names x the service dimension
    months_of_history: int = 12  # DynamoDB storage: a year of messages and actions kept
    chars_per_token: float = 4.0  # English text in the prompt and the tool schema
    tool_use_tokens: int = 346  # the system tokens a forced tool choice adds (Anthropic's tool-use docs)
    label_output_tokens: int = 60  # the label tool's answer (MAX_TOKENS caps it at 200)
    screen_output_tokens: int = 25  # the screen tool's answer (SCREEN_MAX_TOKENS 60)

    def lines(self) -> list[str]:
        return [
            f"staff web app: {self.staff_per_location} staff per location, {self.staff_hours_per_day:g} h x "
            f"{self.workdays} days, {self.api_requests_per_staff_hour} API requests/h, "
            f"{self.app_loads_per_staff_day} app loads/day of {self.app_load_bytes // 1000} KB",
            f"booking pages: {self.booking_link_open_rate:.0%} of the personal links texted are opened, "
            f"{self.booking_page_requests} API requests and {self.booking_page_bytes // 1000} KB each",
            f"voice agent: {self.voice_calls_per_patient:g} calls per patient-month, "
            f"{self.voice_minutes_per_call:g} min, {self.voice_turns_per_call} Lex turns each; staff API, booking "
            f"and voice DynamoDB reads: {self.inbox_dynamo_requests}, 4 and 5 requests per request",
            f"Lambda duration: {self.lambda_base_ms:g} ms + {self.dynamo_ms:g} ms per DynamoDB request + "
            f"{self.api_ms:g} ms per other AWS call + {self.llm_ms:g} ms per Bedrock call + the sender's pacing "
            f"waits; one {self.init_s:g} s cold start per function per hour with traffic",
            "planner: one invocation per stream record (records arrive apart); sms_events: one per "
            f"delivery event, {len(DELIVERY_EVENTS)} events per text ({', '.join(DELIVERY_EVENTS)})",
            f"SQS: {POLLED_QUEUES} queues long-polled by Lambda (5 pollers x 3 empty receives a minute each)",
            f"logs: {self.log_bytes_per_invocation} B per invocation, kept {self.log_retention_months} months; "
            f"KMS: {self.kms_requests_per_resource_hour} data-key requests per encrypted resource-hour",
            f"DynamoDB storage: {self.months_of_history} months of this month's items; "
            f"{self.custom_metrics} custom metrics",
            f"Bedrock: {self.chars_per_token:g} characters a token + {self.tool_use_tokens} tool-use tokens a call; "
            f"{self.label_output_tokens}/{self.screen_output_tokens} output tokens per label/screen",
            "prices are list prices without the free tier; tax and one-time fees (10DLC brand) not included",
        ]


# ---------------------------------------------------------------------------- the counted run
class CountingChannel:
    """The SMS channel: every send counted in message parts (as End User Messaging bills them)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def send(self, to: str, body: str, context: dict[str, str]) -> str:
        self.meter.quantities["sms.parts_out"] += count_parts(body)
        self.meter.quantities["sms.texts_out"] += 1
        self.meter.call("sms.send")
        return context["message_id"]

    def opt_out(self, phone: str) -> None:
        self.meter.call("sms.opt_out_list")

    def opt_in(self, phone: str) -> None:
        self.meter.call("sms.opt_out_list")


class CountingLlm:
    """The LLM tier as deployed (on where the region offers the model): the same requests
    careloop.agent.llm builds, sized in tokens; its answer is the local one (no second opinion
    changes a count that matters here)."""

    def __init__(self, meter: Meter, model_id: str, assumptions: Assumptions) -> None:
        self.meter, self.model_id, self.a = meter, model_id, assumptions

    def label(self, text, local, *, names=(), ids=(), ref=""):
        from careloop.agent.llm import converse_request, minimise, needs_second_opinion

        if needs_second_opinion(local, text):
            self._count(converse_request(self.model_id, minimise(text, names, ids)), self.a.label_output_tokens)
        return local

    def screen(self, text, local, *, names=(), ids=(), ref=""):
        from careloop.agent.llm import minimise, screen_request

        if local.intent != "urgent" and text.strip():
            self._count(screen_request(self.model_id, minimise(text, names, ids)), self.a.screen_output_tokens)
        return local

    def _count(self, request: dict[str, Any], output_tokens: int) -> None:
        prompt = json.dumps([request["system"], request["messages"], request["toolConfig"]], ensure_ascii=False)
        self.meter.quantities["bedrock.input_tokens"] += math.ceil(len(prompt) / self.a.chars_per_token) + self.a.tool_use_tokens
        self.meter.quantities["bedrock.output_tokens"] += min(output_tokens, request["inferenceConfig"]["maxTokens"])
        self.meter.call("bedrock.converse")
        if self.meter.current is not None:
            self.meter.functions[self.meter.current].llm_calls += 1


class _Handover:
    """Outbox and notifier of the counted run: what the core hands over goes to `on_outbound`."""

    def __init__(self, sim: CostSimulation) -> None:
        self.sim = sim

    def enqueue(self, message) -> None:
        self.sim.on_outbound(message)

    def notify(self, message) -> None:
        self.sim.on_outbound(message)


class CostSimulation(Simulation):
    """The simulator with every port counted, the sender, its pacing and the delivery events run
    for real behind each text, and the dispatcher's idle ticks added: a month as AWS would bill it."""

    def __init__(self, scenario, assumptions: Assumptions | None = None) -> None:
        from careloop.sms.pacing import Pacer

        super().__init__(scenario)
        self.assumptions = assumptions or Assumptions()
        self.meter = Meter(clock=self.clock)
        self.meter.enabled = False  # the practice's patients are on the books already: not this month's work
        s = self.s
        for name in DYNAMO_CALLS:
            port = getattr(s, name, None)
            if port is not None:
                setattr(s, name, CountingPort(port, name, self.meter))
        records = s.records._port  # type: ignore[attr-defined]  # the fake under the counting proxy
        records.listeners[:] = [self._stream(listener) for listener in records.listeners]
        s.llm = CountingLlm(self.meter, s.practice.agent.llm_model_id, self.assumptions)
        s.sms = self.channel = CountingChannel(self.meter)
        s.outbox = s.notifier = _Handover(self)
        sender = wiring.by_name("sms_sender").source
        if not isinstance(sender, wiring.QueueSource):
            raise ConfigError("wiring: sms_sender is fed by the send queue")
        self.sender_batch, consumers = sender.batch_size, sender.max_concurrency or 1
        self._waited = [0.0] * consumers
        self.pacers = [Pacer(s.practice.sms.parts_per_second / consumers, sleep=self._sleep(i),
                             monotonic=self._monotonic(i)) for i in range(consumers)]
        self._burst = 0  # texts handed to the send queue in the running tick / event
        self.ticks = 0

    def _sleep(self, consumer: int):
        def sleep(seconds: float) -> None:
            self._waited[consumer] += seconds
            self.meter.functions["sms_sender"].wait_s += seconds
        return sleep

    def _monotonic(self, consumer: int):
        return lambda: self.clock.now().timestamp() + self._waited[consumer]

    def _stream(self, listener):
        def on_record(kind, old, new) -> None:
            with self.meter.running("planner"):
                listener(kind, old, new)
        return on_record

    # the simulator's loop, counted -------------------------------------------------------
    def run_until(self, t: datetime) -> None:
        from careloop.engine.dispatcher import tick

        self.meter.enabled = True
        clock = self.clock
        while True:
            with self.meter.off():
                due = self.s.actions.due_actions(t, limit=1)
            if not due:
                break
            clock.set(max(due[0].due_at, clock.now()))
            with self.meter.running("dispatcher"):
                result = tick(self.s)
            self.ticks += 1
            self._flush()
            if not (result.sent or result.skipped or result.deferred or result.lost):
                break
        if t > clock.now():
            clock.set(t)

    def apply(self, index: int, event) -> None:
        m = self.meter
        if event.type in ("appointment", "ehr_fhir", "ehr_hl7v2"):
            m.call("apigw.request")
            with m.running("ehr_webhook"):
                m.call("s3.put")  # the payload's archive copy
                super().apply(index, event)
        elif event.type == "sms":
            m.quantities["sms.parts_in"] += count_parts(event.body or "")
            m.call("sns.publish")  # End User Messaging -> the inbound topic -> its queue
            with m.running("sms_inbound"):
                m.call("sqs.receive")
                m.call("sqs.delete")
                super().apply(index, event)
        elif event.type == "delivery":
            with m.running("sms_events"):
                super().apply(index, event)
        else:  # book: the page, the types, the slots, the booking
            m.call("apigw.request", 4)
            with m.running("booking"):
                super().apply(index, event)
        self._flush()

    def final_states(self) -> list[dict]:
        with self.meter.off():
            return super().final_states()

    # outbound ------------------------------------------------------------------------------
    def on_outbound(self, message) -> None:
        from careloop.sms.events import apply_delivery_event
        from careloop.sms.sender import send_queued

        m = self.meter
        if message.kind != "sms_out":  # a task or alert: the staff-alerts topic (email; SMS when urgent)
            m.call("sns.publish")
            m.quantities["sns.email"] += 1
            if message.priority == "urgent":
                m.quantities["sms.parts_out"] += 1
                m.quantities["sms.texts_out"] += 1
            return
        m.call("sqs.send")
        consumer = (self._burst // self.sender_batch) % len(self.pacers)
        self._burst += 1
        with m.running("sms_sender", invocation=False):
            outcome = send_queued(self.s, self.channel, message.message_id, pace=self.pacers[consumer].wait)
        if outcome.status != "sent":
            return
        for event_type in DELIVERY_EVENTS:
            m.call("sns.publish")  # End User Messaging -> the events topic -> its queue
            with m.running("sms_events"):
                m.call("sqs.receive")
                m.call("sqs.delete")
                apply_delivery_event(self.s, {"eventType": event_type, "messageId": message.message_id})

    def _flush(self) -> None:
        """The texts of one tick or event reach the sender in batches of the queue's batch size."""
        if self._burst:
            batches = math.ceil(self._burst / self.sender_batch)
            self.meter.invoked("sms_sender", batches)
            self.meter.call("sqs.receive", batches)
            self.meter.call("sqs.delete", batches)
            self._burst = 0


# ---------------------------------------------------------------------------- quantities
@dataclass
class Month:
    """The counted and estimated quantities of one practice-month, by price id."""

    patients: int
    locations: int
    quantities: dict[str, float]
    basis: dict[str, str]  # price id -> counted | estimated | fixed
    functions: dict[str, dict[str, float]]  # per Lambda function: invocations, GB-s, memory
    assumptions: list[str]
    counts: dict[str, float] = field(default_factory=dict)  # what the simulator saw (texts, ticks ...)


def measure_month(scenario: dict[str, Any], assumptions: Assumptions | None = None,
                  voice: bool = True) -> Month:
    """Run the scenario on counted ports and turn the counts into billable quantities."""
    a = assumptions or Assumptions()
    parsed = parse_scenario(scenario)
    patients = len(parsed.patients)  # before the run: it releases the scenario's patients once stored
    sim = CostSimulation(parsed, a)
    sim.run()
    m = sim.meter
    locations = max(1, len(parsed.practice.get("locations", [])) or 1)
    q: dict[str, float] = {}
    basis: dict[str, str] = {}

    def put(key: str, value: float, how: str) -> None:
        q[key] = q.get(key, 0) + value
        basis[key] = how

    # the dispatcher runs every minute whether or not anything is due: the idle ticks query
    # the due index once per shard, half a unit each
    idle = max(0, DISPATCHER_TICKS - sim.ticks)
    dispatcher = m.functions["dispatcher"]
    dispatcher.invocations += idle
    dispatcher.dynamo_requests += idle * 4
    m.read_units["actions"] += idle * 4 * 0.5
    m.requests["dynamodb.query"] += idle * 4
    # the planner wakes for every record written to the records table (its stream): the
    # patient and appointment changes it plans from (counted as it ran), and the consent and
    # access-log entries it skips
    m.functions["planner"].invocations += m.stream_records

    # estimated traffic the simulator has no events for
    staff_hours = a.staff_per_location * locations * a.staff_hours_per_day * a.workdays
    staff_api = staff_hours * a.api_requests_per_staff_hour
    links = m.calls.get("booking.put_link", 0)
    booking_views = links * a.booking_link_open_rate
    calls = patients * a.voice_calls_per_patient if voice else 0
    extra = {"inbox_api": (staff_api, a.inbox_dynamo_requests, 1), "booking": (booking_views * a.booking_page_requests, 4, 0),
             "voice": (calls * a.voice_turns_per_call, 5, 1), "voice_events": (calls, 5, 2)}
    for name, (invocations, dynamo_per, api_per) in extra.items():
        f = m.functions[name]
        f.invocations += round(invocations)
        f.dynamo_requests += round(invocations * dynamo_per)
        f.api_calls += round(invocations * api_per)
        if invocations:  # working hours: one cold start an hour of the practice's day
            f.hours.update((0, d, h) for d in range(a.workdays) for h in range(9, 17))
        m.read_units["records"] += invocations * dynamo_per * 0.5
        m.write_units["messages"] += invocations * (1 if name != "booking" else 0.2)
    api_requests = m.requests["apigw.request"] + staff_api + booking_views * a.booking_page_requests

    # Lambda: requests and GB-s per function, with the memory sizes the stack deploys
    per_function: dict[str, dict[str, float]] = {}
    invocations_total = 0
    for spec in wiring.deployed(voice):
        if spec.name not in m.functions or not m.functions[spec.name].invocations:
            continue
        f = m.functions[spec.name]
        seconds = (f.invocations * a.lambda_base_ms + f.dynamo_requests * a.dynamo_ms + f.api_calls * a.api_ms
                   + f.llm_calls * a.llm_ms) / 1000 + f.wait_s
        cold = min(len(f.hours), f.invocations, MONTH_HOURS)
        gb = spec.memory_mb / 1024
        gb_s = (seconds + cold * a.init_s) * gb
        per_function[spec.name] = {"invocations": f.invocations, "memory_mb": spec.memory_mb,
                                   "seconds": round(seconds, 1), "cold_starts": cold, "gb_s": round(gb_s, 1)}
        invocations_total += f.invocations
        put("lambda.requests", f.invocations, "counted")
        put("lambda.gb_s", gb_s, "counted")
    basis["lambda.gb_s"] = "counted"

    put("dynamodb.read_units", sum(m.read_units.values()), "counted")
    put("dynamodb.write_units", sum(m.write_units.values()), "counted")
    stored_gb = sum(b for b, _ in m._sizes.values()) / 1e9 * a.months_of_history
    put("dynamodb.storage_gb", stored_gb, "estimated")
    put("dynamodb.pitr_gb", stored_gb, "estimated")
    put("backup.storage_gb", stored_gb, "estimated")

    polling = POLLED_QUEUES * 5 * 3 * 60 * MONTH_HOURS
    put("sqs.requests", m.requests["sqs.send"] + m.requests["sqs.receive"] + m.requests["sqs.delete"], "counted")
    put("sqs.requests", polling, "estimated")
    put("sns.publishes", m.requests["sns.publish"], "counted")
    put("sns.email", m.quantities["sns.email"], "counted")
    put("apigw.requests", api_requests, "counted" if not staff_api else "estimated")
    put("waf.requests", api_requests, "estimated")
    put("waf.web_acls", STACK_RESOURCES["web_acls"], "fixed")
    put("waf.rules", STACK_RESOURCES["waf_rules"], "fixed")
    app_loads = a.staff_per_location * locations * a.app_loads_per_staff_day * a.workdays
    put("cloudfront.requests", app_loads * a.app_load_requests + booking_views * 2, "estimated")
    put("cloudfront.gb", (app_loads * a.app_load_bytes + booking_views * a.booking_page_bytes) / 1e9, "estimated")
    put("s3.put_requests", m.requests["s3.put"], "counted")

    put("kms.keys", STACK_RESOURCES["kms_keys"], "fixed")
    encrypted = STACK_RESOURCES["queues"] + STACK_RESOURCES["topics"] + STACK_RESOURCES["tables"] + STACK_RESOURCES["log_groups"]
    put("kms.requests", encrypted * a.kms_requests_per_resource_hour * MONTH_HOURS, "estimated")
    secrets = 1  # the EHR webhook secret (a token secret too when the profile names one)
    put("secrets.secrets", secrets, "fixed")
    put("secrets.api_calls", per_function.get("ehr_webhook", {}).get("cold_starts", 0), "counted")

    log_gb = invocations_total * a.log_bytes_per_invocation / 1e9
    put("logs.ingest_gb", log_gb, "estimated")
    put("logs.storage_gb", log_gb * a.log_retention_months * 0.15, "estimated")  # stored compressed (~0.15)
    put("cloudwatch.metrics", a.custom_metrics, "estimated")
    put("cloudwatch.alarms", STACK_RESOURCES["alarms"], "fixed")
    put("cloudwatch.dashboards", STACK_RESOURCES["dashboards"], "fixed")
    put("xray.traces", invocations_total, "counted")

    put("sms.parts_out", m.quantities["sms.parts_out"], "counted")
    put("sms.parts_in", m.quantities["sms.parts_in"], "counted")
    put("sms.carrier_fee_parts", m.quantities["sms.parts_out"], "counted")
    put("sms.phone_number", 1, "fixed")
    put("sms.10dlc_campaign", 1, "fixed")
    if voice:
        put("connect.minutes", calls * a.voice_minutes_per_call, "estimated")
        put("connect.did_minutes", calls * a.voice_minutes_per_call, "estimated")
        put("connect.did_days", 30, "fixed")
        put("lex.speech_requests", calls * a.voice_turns_per_call, "estimated")
    put("bedrock.input_tokens", m.quantities["bedrock.input_tokens"], "counted")
    put("bedrock.output_tokens", m.quantities["bedrock.output_tokens"], "counted")
    counts: dict[str, float] = {"events": len(parsed.events), "texts_out": m.quantities["sms.texts_out"],
              "texts_in": sum(1 for e in parsed.events if e.type == "sms"), "dispatcher_ticks_with_work": sim.ticks,
              "stream_records": m.functions["planner"].invocations, "llm_calls": m.requests["bedrock.converse"],
              "booking_links": links, "dynamodb_requests": sum(v for k, v in m.requests.items() if k.startswith("dynamodb."))}
    return Month(patients, locations, q, basis, per_function, a.lines(), counts)


# ---------------------------------------------------------------------------- pricing
@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    cost: float
    basis: str


@dataclass
class Bill:
    lines: list[Line]
    total: float
    per_patient: float
    per_location: float
    patients: int
    locations: int
    prices: str  # the price table's name and date
    assumptions: list[str]
    functions: dict[str, dict[str, float]]
    counts: dict[str, float]

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0) + line.cost
        return out


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def price(month: Month, table: dict[str, Any]) -> Bill:
    """Each quantity times its unit price (the table's `per` units a price is quoted for)."""
    prices = table["prices"]
    lines = []
    for key, quantity in month.quantities.items():
        if key not in prices:
            raise KeyError(f"price table {table['name']}: no price for {key!r}")
        p = prices[key]
        unit_price = p["usd"] / p.get("per", 1)
        lines.append(Line(p["service"], p["item"], quantity, p["unit"], unit_price, quantity * unit_price,
                          month.basis.get(key, "counted")))
    total = sum(line.cost for line in lines)
    return Bill(lines, total, total / max(month.patients, 1), total / max(month.locations, 1), month.patients,
                month.locations, f"{table['name']} (read {table['read']})", month.assumptions, month.functions,
                month.counts)


def cost_of_practice(patients: int, locations: int, table: dict[str, Any] | None = None,
                     assumptions: Assumptions | None = None, seed: int = 7) -> Bill:
    from careloop_local.practice_month import practice_month

    return price(measure_month(practice_month(patients, locations, seed=seed), assumptions), table or load_prices())


# ---------------------------------------------------------------------------- output
def _qty(value: float) -> str:
    if value >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def as_text(bill: Bill) -> str:
    out = [f"Careloop on AWS: one practice-month, {bill.patients:,} patients, {bill.locations} location(s) "
           f"(prices: {bill.prices})", ""]
    out.append(f"{'service':<16} {'item':<48} {'quantity':>14} {'unit price':>13}  {'cost':>9}  basis")
    for line in sorted(bill.lines, key=lambda x: (x.service, -x.cost)):
        out.append(f"{line.service:<16} {line.item:<48} {_qty(line.quantity):>14} "
                   f"{line.unit_price:>13.8g}  {line.cost:>9.2f}  {line.basis}")
    out.append("")
    for service, cost in sorted(bill.by_service().items(), key=lambda kv: -kv[1]):
        out.append(f"  {service:<16} {cost:>9.2f}")
    out.append(f"Total per month: ${bill.total:,.2f}   per patient: ${bill.per_patient:.4f}   "
               f"per location: ${bill.per_location:,.2f}")
    out.append("")
    out.append("Lambda by function: " + ", ".join(
        f"{n} {int(f['invocations']):,} inv / {f['gb_s']:,.0f} GB-s ({int(f['memory_mb'])} MB)" for n, f in bill.functions.items()))
    out.append("Counted in the simulated month: " + ", ".join(f"{k} {_qty(v)}" for k, v in bill.counts.items()))
    out.append("Assumptions:")
    out.extend(f"  - {x}" for x in bill.assumptions)
    return "\n".join(out)


def as_json(bill: Bill) -> str:
    data = asdict(bill)
    data["by_service"] = bill.by_service()
    return json.dumps(data, indent=2)


def as_csv(bill: Bill) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["service", "item", "quantity", "unit", "unit_price_usd", "cost_usd", "basis"])
    for line in bill.lines:
        writer.writerow([line.service, line.item, f"{line.quantity:.6g}", line.unit, f"{line.unit_price:.10g}",
                         f"{line.cost:.4f}", line.basis])
    writer.writerow(["total", "", "", "", "", f"{bill.total:.2f}", ""])
    writer.writerow(["per patient", "", "", "", "", f"{bill.per_patient:.4f}", ""])
    return buf.getvalue()
