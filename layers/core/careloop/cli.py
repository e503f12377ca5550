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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="careloop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole system locally on an embedded AWS emulation")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=int(os.environ.get("CARELOOP_PORT", "8000")))
    local.add_argument("--practice", default=None, help="practice profile JSON (default: the demo)")
    local.add_argument("--no-demo", action="store_true", help="start without the demo patients")
    local.set_defaults(func=_local)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
