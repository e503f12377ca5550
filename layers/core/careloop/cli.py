"""The `careloop` command: `local` (the whole system on this machine), `simulate` (dry run of
workflows on a virtual clock), `classify` (label inbound texts)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path


def _local(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from careloop.adapters.aws import services
    from careloop.local import demo
    from careloop.local.http import LocalHttp
    from careloop.local.runtime import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, LocalStack

    stack = LocalStack(practice_file=Path(args.practice) if args.practice else None).start()
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
    print(f"  health: {url}/health   sandbox: {url}/dev/sms/outbox   Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    finally:
        stack.stop()
        print("Careloop stopped.", flush=True)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import json

    from careloop.simulate import ScenarioError, simulate

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
    try:
        lines, warnings = simulate(data)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    out = sys.stdout
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _example_bundle(args: argparse.Namespace) -> int:
    """A FHIR R4 transaction Bundle (Patient + booked Appointment) N days ahead at 10:00."""
    import json
    from datetime import datetime, time, timedelta

    from careloop.practice import load_profile
    from careloop.settings import get_settings

    practice = load_profile(args.practice) if args.practice else get_settings().practice()
    day = datetime.now(practice.zone).date() + timedelta(days=args.in_days)
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
    from careloop.intake import sign

    body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    print(sign(args.secret, body))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="careloop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole system locally on an embedded AWS emulation")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=int(os.environ.get("CARELOOP_PORT", "8000")))
    local.add_argument("--practice", default=None, help="practice profile JSON (default: the demo)")
    local.add_argument("--no-demo", action="store_true", help="start without the demo patients")
    local.set_defaults(func=_local)

    sim = sub.add_parser("simulate", help="dry-run workflows on a virtual clock (JSON Lines out)")
    sim.add_argument("scenario", help="scenario JSON file, or - for stdin")
    sim.set_defaults(func=_simulate)

    ehr = sub.add_parser("ehr", help="EHR helpers").add_subparsers(dest="ehr_command", required=True)
    example = ehr.add_parser("example-bundle", help="print a FHIR Bundle: a patient with a booked appointment")
    example.add_argument("--in-days", type=int, default=4)
    example.add_argument("--hour", type=int, default=10)
    example.add_argument("--phone", default="+16175550142")
    example.add_argument("--language", default="en", choices=["en", "es"])
    example.add_argument("--patient-id", default="example-patient")
    example.add_argument("--appointment-id", default="example-appointment")
    example.add_argument("--practice", default=None)
    example.set_defaults(func=_example_bundle)
    signer = ehr.add_parser("sign", help="print the X-Careloop-Signature value for a payload file")
    signer.add_argument("file", help="payload file, or - for stdin")
    signer.add_argument("--secret", default=os.environ.get("CARELOOP_WEBHOOK_SECRET", "local-dev-secret"))
    signer.set_defaults(func=_sign)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
