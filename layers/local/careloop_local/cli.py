"""The `careloop` command: `local` (the whole system here), `simulate` (workflows on a virtual clock),
`cost` (a practice-month's AWS bill), `classify` (label texts), `call` (the voice agent), `ehr` and `audit`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _local(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from careloop.adapters.aws import services
    from careloop_local import demo
    from careloop_local.http import LocalHttp
    from careloop_local.runtime import (
        DEMO_STAFF_BY_ROLE,
        DEMO_STAFF_EMAIL,
        DEMO_STAFF_PASSWORD,
        LocalStack,
    )

    os.environ.setdefault("CARELOOP_BOOKING_BASE_URL", f"http://{args.host}:{args.port}")  # where links point
    stack = LocalStack(practice_file=Path(args.practice) if args.practice else None).start()
    if args.faults:  # armed before the demo seeds, so its texts meet the faults too
        from careloop_local import faults

        faults.parse_spec(args.faults)
    if args.seed_history:  # before the demo's own patients: history moves the fresh stack's clock back
        from careloop_local.history import seed_history

        told = seed_history(stack, patients=args.history_patients)
        print(f"Seeded {told.days} days of history: {told.patients} patients, {told.visits} visits, "
              f"{told.texts_sent} texts, {told.replies} replies, {told.no_shows} no-shows "
              f"({told.rebooked} rebooked), {told.calls} calls in {told.seconds:.0f} s", flush=True)
    if not args.no_demo:
        demo.seed(services())
        stack.drain()
    server = make_server(args.host, args.port, LocalHttp(stack), threaded=True)
    url = f"http://{args.host}:{server.server_port}"
    stop = threading.Event()

    def _shutdown(*_):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, _shutdown)
    signal.signal(signal.SIGTERM, _shutdown)
    print(f"Careloop is running at {url}", flush=True)
    print(f"  staff web app: {url}/   sign in as {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}", flush=True)
    others = ", ".join(f"{email} ({role})" for role, email in DEMO_STAFF_BY_ROLE.items() if email != DEMO_STAFF_EMAIL)
    print(f"  other roles, same password: {others}", flush=True)
    print(f"  health: {url}/health   sandbox: {url}/dev/sms/outbox   Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    finally:
        stack.stop()
        print("Careloop stopped.", flush=True)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from careloop_local.simulate import collector_paused

    # the whole command in one pause (reading, the run, the output), the run's objects dropped
    # before it ends (Simulation.close, and the lines as `_simulate_run` returns): see collector_paused
    with collector_paused():
        return _simulate_run(args)


def _simulate_run(args: argparse.Namespace) -> int:
    import json

    from careloop_local.simulate import ScenarioError, Simulation, parse_scenario

    source = "stdin" if args.scenario == "-" else args.scenario
    try:
        text = sys.stdin.read() if args.scenario == "-" else Path(args.scenario).read_text()
    except OSError as exc:
        print(f"{source}: cannot read ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"{source}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})", file=sys.stderr)
        return 2
    del text
    simulation: Simulation | None = None
    try:
        simulation = Simulation(parse_scenario(data))
        del data  # parsed: a large month's JSON need not stay in memory for the run
        lines, warnings = simulation.run(), simulation.warnings
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        if simulation is not None:
            simulation.close()  # freed now, by reference counting, not by a pass of the collector
    out = sys.stdout
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _cost(args: argparse.Namespace) -> int:
    """Price a simulated practice-month (careloop_local.cost) with the dated price table."""
    from careloop_local.cost import as_csv, as_json, as_text, cost_of_practice, load_prices

    if not 1 <= args.patients <= 200_000:
        print(f"careloop cost: --patients {args.patients}: between 1 and 200,000", file=sys.stderr)
        return 2
    if not 1 <= args.locations <= 100:
        print(f"careloop cost: --locations {args.locations}: between 1 and 100", file=sys.stderr)
        return 2
    try:
        table = load_prices(Path(args.prices)) if args.prices else load_prices()
    except OSError as exc:
        print(f"careloop cost: {args.prices}: cannot read ({exc.strerror})", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"careloop cost: {args.prices}: not a price table ({exc})", file=sys.stderr)
        return 2
    try:
        bill = cost_of_practice(args.patients, args.locations, table, seed=args.seed)
    except KeyError as exc:
        print(f"careloop cost: {exc.args[0]}", file=sys.stderr)
        return 2
    print({"text": as_text, "json": as_json, "csv": as_csv}[args.format](bill).rstrip("\n"))
    return 0


def _example_bundle(args: argparse.Namespace) -> int:
    """A FHIR R4 transaction Bundle (Patient + booked Appointment) N days ahead at 10:00."""
    import json
    from datetime import datetime, time, timedelta

    from careloop.practice import load_profile
    from careloop.settings import get_settings

    practice = load_profile(args.practice) if args.practice else get_settings().practice()
    now = datetime.now(practice.zone)
    if args.clock_url:  # the local stack's clock, which /dev/clock/advance moves
        import urllib.request

        with urllib.request.urlopen(args.clock_url.rstrip("/") + "/dev/clock", timeout=5) as resp:  # noqa: S310
            now = datetime.fromisoformat(json.loads(resp.read())["now"]).astimezone(practice.zone)
    day = now.date() + timedelta(days=args.in_days)
    start = datetime.combine(day, time(args.hour), tzinfo=practice.zone)
    end = start + timedelta(minutes=30)
    bundle = {
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:0b6a1c9e-5f0e-4a57-9c1e-000000000001",
             "resource": {"resourceType": "Patient", "id": args.patient_id,
                          "name": [{"use": "official", "family": "Kim", "given": ["Jordan"]}],
                          "telecom": [{"system": "phone", "value": args.phone, "use": "mobile"}],
                          "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": args.language}]},
                                             "preferred": True}]},
             "request": {"method": "PUT", "url": f"Patient/{args.patient_id}"}},
            {"fullUrl": "urn:uuid:0b6a1c9e-5f0e-4a57-9c1e-000000000002",
             "resource": {"resourceType": "Appointment", "id": args.appointment_id, "status": "booked",
                          "appointmentType": {"coding": [{"code": "cleaning", "display": "Cleaning"}]},
                          "start": start.isoformat(), "end": end.isoformat(),
                          "participant": [
                              {"actor": {"reference": "urn:uuid:0b6a1c9e-5f0e-4a57-9c1e-000000000001"}, "status": "accepted"},
                              {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
             "request": {"method": "PUT", "url": f"Appointment/{args.appointment_id}"}},
        ],
    }
    print(json.dumps(bundle, indent=2))
    return 0


def _sign(args: argparse.Namespace) -> int:
    """The X-Careloop-Signature header value for a file's exact bytes."""
    from careloop.ehr.signing import parse_secrets, sign, sign_timestamped

    body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    secret = parse_secrets(args.secret).current  # after a rotation the variable holds both: sign with the new
    print(sign(secret, body) if args.plain else sign_timestamped(secret, body))
    return 0


def _rotate_secret(args: argparse.Namespace) -> int:
    """A new webhook secret; the one it replaces stays valid for --overlap-hours, then is refused."""
    import json
    import secrets as token_source
    from datetime import UTC, datetime, timedelta

    from careloop.ehr.signing import rotated
    from careloop.errors import ConfigError

    if args.endpoint:
        payload: dict = {"overlap_hours": args.overlap_hours} | ({"secret": args.new} if args.new else {})
        answer = _http_json(args.endpoint.rstrip("/") + "/dev/ehr/rotate-secret", payload)
        current, expires = answer["secret"], answer["previous_expires"]
    else:
        from careloop.adapters.clients import client
        from careloop.settings import get_settings

        secret_id = args.secret_id or get_settings().webhook_secret_arn
        if not secret_id:
            print("careloop ehr rotate-secret: name --secret-id (the stack's careloop/<practice>/webhook-secret) "
                  "or --endpoint of a running `careloop local`", file=sys.stderr)
            return 2
        sm = client("secretsmanager")
        old = sm.get_secret_value(SecretId=secret_id)["SecretString"]
        try:
            secrets = rotated(old, args.new or token_source.token_urlsafe(36), datetime.now(UTC),
                              timedelta(hours=args.overlap_hours))
        except ConfigError as exc:
            print(f"careloop ehr rotate-secret: {exc}", file=sys.stderr)
            return 2
        sm.put_secret_value(SecretId=secret_id, SecretString=secrets.to_json())
        current, expires = secrets.current, secrets.previous_expires.isoformat() if secrets.previous_expires else None
    # the new secret goes to the EHR's administrator: printed once, never logged
    print(json.dumps({"secret": current, "previous_expires": expires}))
    print(f"give the EHR the new secret before {expires}; the old one is refused after that", file=sys.stderr)
    return 0


# ---- EHR operations: replay, bulk import, MLLP bridge, data-quality audit (issue 6) ----------


def _http_json(url: str, data: dict | None = None) -> dict:
    """GET (or POST `data`) JSON from a running `careloop local` dev route."""
    import json
    import urllib.request

    req = urllib.request.Request(url, data=None if data is None else json.dumps(data).encode(),
                                 method="GET" if data is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:  # noqa: S310 (an address the user gave)
        return json.loads(resp.read())


def _replay(args: argparse.Namespace) -> int:
    from careloop_local.ehr_replay import ReplayOutcome, outcomes_json, replay

    if not args.all and not args.key:
        print("careloop ehr replay: name --key KEY (repeatable) or --all", file=sys.stderr)
        return 2
    keys = None if args.all else args.key
    if args.endpoint:
        data = _http_json(args.endpoint.rstrip("/") + "/dev/ehr/replay",
                          {"all": bool(args.all), "keys": keys or [], "dry_run": args.dry_run})
        outcomes = [ReplayOutcome(**r) for r in data["results"]]
    else:
        from careloop.adapters.aws import archive, services

        outcomes = replay(services(), archive(), keys=keys, dry_run=args.dry_run)
    for o in outcomes:
        print(o.line())
    summary = outcomes_json(outcomes)["summary"]
    print(", ".join(f"{n} {k}" for k, n in sorted(summary.items())) or "nothing in quarantine")
    return 1 if any(o.status in ("still-bad", "would-fail", "missing") for o in outcomes) else 0


def _import(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from careloop_local.ehr_bulk import WebhookSink, import_files

    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"careloop ehr import: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.endpoint:
        from careloop.practice import load_profile
        from careloop.settings import get_settings
        from careloop_local.fakes import memory_services

        practice = load_profile(args.practice) if args.practice else get_settings().practice()
        svc = memory_services(datetime.now(UTC), practice)  # the profile to map with; writes go over HTTP
        from careloop.ehr.signing import parse_secrets

        sink = WebhookSink(args.endpoint, parse_secrets(args.secret).current)  # the new one, mid-rotation
    else:
        from careloop.adapters.aws import services

        svc, sink = services(), None

    def progress(s) -> None:
        if sys.stderr.isatty():
            print(f"\r  {s.read} read, {s.patients} patients, {s.appointments} appointments, "
                  f"{s.error_count} errors ({s.rate:.0f}/s)", end="", file=sys.stderr, flush=True)

    summary = import_files(args.files, svc, sink=sink, chunk_size=args.batch_size, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print("\n".join(summary.lines()))
    if args.errors:
        from careloop import csvout

        with open(args.errors, "w", newline="") as f:
            writer = csvout.writer(f)
            writer.writerow(["file", "where", "issue"])
            writer.writerows([e.file, e.where, e.issue] for e in summary.errors)
    if args.json:
        Path(args.json).write_text(json.dumps(summary.as_dict(), indent=2))
    return 1 if summary.error_count else 0


def _mllp_bridge(args: argparse.Namespace) -> int:
    import logging

    from careloop.ehr.signing import parse_secrets
    from careloop_local.ehr_mllp import Forwarder, run

    secret = os.environ.get(args.secret_env, "")
    secret = parse_secrets(secret).current if secret else ""  # mid-rotation the variable holds both
    if not secret:
        print(f"careloop mllp-bridge: ${args.secret_env} is empty (the webhook secret)", file=sys.stderr)
        return 2
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print("careloop mllp-bridge: --listen HOST:PORT, e.g. 127.0.0.1:2575", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    forwarder = Forwarder(args.url, secret, Path(args.spool), timeout=args.timeout, facility=args.facility)

    def ready(h: str, p: int) -> None:
        print(f"MLLP bridge listening on {h}:{p} -> {args.url} (spool: {args.spool}); Ctrl-C stops", flush=True)

    # Ctrl-C and SIGTERM stop it even when started with SIGINT ignored (a background job of a
    # non-interactive shell inherits that), as a service manager or a CI runner may start it
    def _stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    run(host, int(port), forwarder, retry_every=args.retry_every, ready=ready)
    return 0


def _audit(args: argparse.Namespace) -> int:
    import json

    from careloop.audit import AuditReport, audit

    if args.endpoint:
        url = f"{args.endpoint.rstrip('/')}/dev/audit?stale_days={args.stale_days}"
        report = AuditReport.from_json(_http_json(url))
    else:
        from careloop.adapters.aws import services

        svc = services()
        report = audit(svc.records, svc.clock.now(), stale_days=args.stale_days, region=svc.practice.sms.country)
    s = report.summary
    print(f"{s['patients']} patients, {s['appointments']} appointments ({s['upcoming_appointments']} upcoming); "
          f"{s['textable']} textable, {s['opted_out']} opted out, {s['undeliverable']} undeliverable, "
          f"{s['merged_records']} merged records")
    print(", ".join(f"{n} {k}" for k, n in s["by_severity"].items()))
    for r in report.rows[:args.limit]:
        print(f"  {r.severity:<7} {r.record:<28} {r.problem:<30} {r.detail}")
    if len(report.rows) > args.limit:
        print(f"  ... {len(report.rows) - args.limit} more (--csv FILE has them all)")
    if args.csv:
        Path(args.csv).write_text(report.to_csv(), newline="")
        print(f"wrote {len(report.rows)} row(s) to {args.csv}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2))
    return 0


def _add_ehr_operations(sub, ehr) -> None:
    """`careloop ehr replay|import|mllp-bridge`, `careloop mllp-bridge`, `careloop audit`."""
    secret = os.environ.get("CARELOOP_WEBHOOK_SECRET", "local-dev-secret")
    replay = ehr.add_parser("replay", help="re-process quarantined EHR payloads through the same intake")
    replay.add_argument("--key", action="append", help="a quarantine/... key (repeatable)")
    replay.add_argument("--all", action="store_true", help="every quarantined payload, oldest first")
    replay.add_argument("--dry-run", action="store_true", help="parse only: move and write nothing")
    replay.add_argument("--endpoint", help="a running `careloop local` (e.g. http://127.0.0.1:8000); "
                        "default: AWS (S3 + DynamoDB named by the CARELOOP_* settings)")
    replay.set_defaults(func=_replay)

    imp = ehr.add_parser("import", help="import a FHIR Bundle or Bulk Data NDJSON (Patient.ndjson, Appointment.ndjson)")
    imp.add_argument("files", nargs="+", help=".ndjson / .ndjson.gz / Bundle .json files")
    imp.add_argument("--endpoint", help="post batches to this Careloop's /ehr/fhir (e.g. http://127.0.0.1:8000); "
                     "default: write to DynamoDB directly with AWS credentials")
    imp.add_argument("--secret", default=secret, help="webhook secret for --endpoint")
    imp.add_argument("--practice", default=None, help="practice profile to map with (default: CARELOOP_PRACTICE_FILE)")
    imp.add_argument("--batch-size", type=int, default=500)
    imp.add_argument("--errors", help="write every error (file, line, issue) to this CSV")
    imp.add_argument("--json", help="write the summary as JSON to this file")
    imp.set_defaults(func=_import)

    for parser in (sub.add_parser("mllp-bridge", help="MLLP listener forwarding HL7 v2 to the webhook, signed"),
                   ehr.add_parser("mllp-bridge", help="same as `careloop mllp-bridge`")):
        parser.add_argument("--listen", default="127.0.0.1:2575", help="HOST:PORT to listen on")
        parser.add_argument("--url", default="http://127.0.0.1:8000/ehr/hl7v2", help="the HL7 v2 webhook")
        parser.add_argument("--secret-env", default="CARELOOP_WEBHOOK_SECRET", help="env var holding the secret")
        parser.add_argument("--spool", default="careloop-mllp-spool", help="directory for messages awaiting retry")
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the webhook")
        parser.add_argument("--retry-every", type=float, default=30.0, help="seconds between spool retries")
        parser.add_argument("--facility", default="CARELOOP", help="MSH-4 of ACKs the bridge builds itself")
        parser.set_defaults(func=_mllp_bridge)

    aud = sub.add_parser("audit", help="data-quality audit: phones, duplicates, orphans, stale records")
    aud.add_argument("--csv", help="write the report as CSV")
    aud.add_argument("--json", help="write the report as JSON")
    aud.add_argument("--stale-days", type=int, default=180, help="records unchanged for longer are listed")
    aud.add_argument("--limit", type=int, default=40, help="rows printed")
    aud.add_argument("--endpoint", help="a running `careloop local` (e.g. http://127.0.0.1:8000); default: AWS")
    aud.set_defaults(func=_audit)


def _classify(args: argparse.Namespace) -> int:
    """JSON Lines in, one labelled line out per input line (spec/intents.md), same classifier
    as the SMS agent's Lambda; a bad line gets {"error": ...} and the run goes on."""
    import io
    import json

    from careloop.agent.classifier import classify

    raw = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115 (closed below)
    src = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    out = sys.stdout.buffer
    interactive = sys.stdout.isatty()
    with src:
        for line in src:
            line = line.rstrip("\r\n").lstrip("\ufeff")
            result: dict[str, Any]  # the input's fields plus the label (str, float, bool) or an error
            try:
                item = json.loads(line)
            except ValueError as exc:
                result = {"error": f"invalid JSON: {exc}"}
            else:
                if not isinstance(item, dict):
                    result = {"error": "expected a JSON object with a \"text\" field"}
                elif not isinstance(item.get("text"), str):
                    result = {**item, "error": "missing \"text\" (a string)"}
                else:
                    p = classify(item["text"])
                    result = {**item, "intent": p.intent, "confidence": p.confidence,
                              "language": p.language, "escalate": p.escalate}
            out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
            if interactive:
                out.flush()
    out.flush()
    return 0


def _call(args: argparse.Namespace) -> int:
    """A text console to the voice agent of a running `careloop local`: each line is what the
    caller says, each answer what the agent says; an empty line or Ctrl-D hangs up."""
    import urllib.error
    import uuid

    base = args.endpoint.rstrip("/")
    call = f"console-{uuid.uuid4().hex[:12]}"
    print(f"Calling {base} from {args.from_number} ({args.locale}). Say something; an empty line hangs up.", flush=True)
    try:
        for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("caller> "), ""):
            text = line.strip()
            if not text:
                break
            turn = {"call": call, "from": args.from_number, "text": text, "locale": args.locale}
            answer = _http_json(f"{base}/dev/voice/say", turn)
            print(f"agent> {answer['reply']}", flush=True)
            if answer.get("ended"):
                break
    except EOFError:
        pass
    except urllib.error.HTTPError as exc:
        import json

        print(f"careloop call: {json.loads(exc.read() or b'{}').get('message', exc.reason)}", file=sys.stderr)
        return 2
    except urllib.error.URLError as exc:
        print(f"careloop call: no `careloop local` at {base} ({exc.reason})", file=sys.stderr)
        return 2
    try:
        ended = _http_json(f"{base}/dev/voice/hangup", {"call": call})
    except urllib.error.HTTPError:
        print("(hung up before the call started)", flush=True)
        return 0
    print(f"(call ended: {ended.get('outcome') or 'no outcome'})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="careloop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole system locally on an embedded AWS emulation")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=int(os.environ.get("CARELOOP_PORT", "8000")))
    local.add_argument("--practice", default=None, help="practice profile JSON (default: the demo)")
    local.add_argument("--no-demo", action="store_true", help="start without the demo patients")
    local.add_argument("--faults", default="", help="inject faults (careloop_local.faults): e.g. "
                       "dynamo-throttle:0.05,duplicates:send,kill-dispatcher:1")
    local.add_argument("--seed-history", action="store_true",
                       help="first live ~90 days of demo history through the real pipeline (what `make run` does)")
    local.add_argument("--history-patients", type=int, default=40, help="patients in the seeded history")
    local.set_defaults(func=_local)

    sim = sub.add_parser("simulate", help="dry-run workflows on a virtual clock (JSON Lines out)")
    sim.add_argument("scenario", help="scenario JSON file, or - for stdin")
    sim.set_defaults(func=_simulate)

    cost = sub.add_parser("cost", help="what AWS charges a practice for a month, priced from a simulated month")
    cost.add_argument("--patients", type=int, default=5000, help="patients of the synthetic practice (e.g. 500, 5000, 50000)")
    cost.add_argument("--locations", type=int, default=1, help="its locations")
    cost.add_argument("--format", choices=["text", "json", "csv"], default="text")
    cost.add_argument("--prices", default=None, help="a price table JSON (default: the dated us-east-1 table shipped)")
    cost.add_argument("--seed", type=int, default=7, help="the synthetic month's random seed")
    cost.set_defaults(func=_cost)

    cls = sub.add_parser("classify", help="label inbound texts: JSON Lines {\"text\": ...} in, labelled lines out")
    cls.add_argument("input", nargs="?", default="-", help="JSON Lines file (default: stdin)")
    cls.set_defaults(func=_classify)

    call = sub.add_parser("call", help="talk to the voice agent of a running `careloop local` by typing")
    call.add_argument("--from", dest="from_number", default="+16175550101", help="the caller's number (E.164)")
    call.add_argument("--locale", default="en_US", choices=["en_US", "es_US"])
    call.add_argument("--endpoint", default=f"http://127.0.0.1:{os.environ.get('CARELOOP_PORT', '8000')}",
                      help="the running `careloop local`")
    call.set_defaults(func=_call)

    ehr = sub.add_parser("ehr", help="EHR helpers").add_subparsers(dest="ehr_command", required=True)
    example = ehr.add_parser("example-bundle", help="print a FHIR Bundle: a patient with a booked appointment")
    example.add_argument("--in-days", type=int, default=4)
    example.add_argument("--hour", type=int, default=10)
    example.add_argument("--phone", default="+16175550142")
    example.add_argument("--language", default="en", choices=["en", "es"])
    example.add_argument("--patient-id", default="example-patient")
    example.add_argument("--appointment-id", default="example-appointment")
    example.add_argument("--practice", default=None)
    example.add_argument("--clock-url", default=None, help="take 'now' from a running local stack (its clock moves)")
    example.set_defaults(func=_example_bundle)
    signer = ehr.add_parser("sign", help="print the X-Careloop-Signature value for a payload file")
    signer.add_argument("file", help="payload file, or - for stdin")
    signer.add_argument("--secret", default=os.environ.get("CARELOOP_WEBHOOK_SECRET", "local-dev-secret"))
    signer.add_argument("--plain", action="store_true",
                        help="the plain sha256=<hex> form (default: t=<unix>,v1=<hex>, refused after 5 minutes)")
    signer.set_defaults(func=_sign)
    rotate = ehr.add_parser("rotate-secret", help="new webhook secret; the old one stays valid for an overlap")
    rotate.add_argument("--secret-id", help="the Secrets Manager secret (default: CARELOOP_WEBHOOK_SECRET_ARN)")
    rotate.add_argument("--endpoint", help="a running `careloop local` (e.g. http://127.0.0.1:8000) instead of AWS")
    rotate.add_argument("--overlap-hours", type=float, default=24.0,
                        help="how long the old secret is still accepted (default 24)")
    rotate.add_argument("--new", help="the new secret (default: 48 random URL-safe characters)")
    rotate.set_defaults(func=_rotate_secret)
    _add_ehr_operations(sub, ehr)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
