"""CDK entry point: one Careloop stack (`Careloop-<id>`) for the practice in practices/<id>.json.

    cdk synth -c practice=<id>          # through the CDK CLI (cdk.json runs this file)
    .venv/bin/python app.py [--practice <id>] [--no-bundling] [--outdir cdk.out]

Synth fails on an invalid profile (the message names the field), on any cdk-nag finding that
infra/nag.py does not acknowledge (errors and warnings alike), and never needs docker.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from careloop.errors import ConfigError  # noqa: E402
from infra import nag  # noqa: E402
from infra.application import build_app  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practice", help="practice id (default: -c practice=..., then demo)")
    parser.add_argument(
        "--no-bundling",
        action="store_true",
        help="hash assets without building them (fast, offline)",
    )
    parser.add_argument("--outdir", help="cloud assembly directory (default: cdk.out)")
    args = parser.parse_args(argv)

    try:
        # The CLI tells the app where to write (CDK_OUTDIR); run directly, we write cdk.out/.
        outdir = args.outdir or (None if "CDK_OUTDIR" in os.environ else str(ROOT / "cdk.out"))
        build = build_app(args.practice, bundle=not args.no_bundling, outdir=outdir)
    except ConfigError as exc:
        print(f"careloop: invalid configuration: {exc}", file=sys.stderr)
        return 2
    try:
        assembly = build.app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        # CDK has printed the report; say what to do about it.
        print(
            "careloop: cdk-nag found unacknowledged errors (above). Fix the resource, or add an "
            "acknowledgement with its reason in infra/nag.py.",
            file=sys.stderr,
        )
        return 1
    open_findings = [str(f) for f in nag.unacknowledged(nag.read_report(assembly.directory))]
    open_findings += nag.cdk_warnings(assembly)
    if open_findings:
        print(
            "careloop: cdk-nag findings without an acknowledgement (fix them, or explain them in infra/nag.py):",
            file=sys.stderr,
        )
        for finding in open_findings:
            print(f"  {finding}", file=sys.stderr)
        return 1
    print(
        f"careloop: synthesised {build.stack.stack_name} into {assembly.directory} "
        f"({len(build.acknowledgements)} acknowledged nag findings, each with its reason)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
