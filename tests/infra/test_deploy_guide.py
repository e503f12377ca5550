"""docs/deploy.md does not rot: every make target, `careloop` command and option, profile field,
file, stack output and `aws` command it names exists (the last against botocore's service models)."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from fhir.resources.R4B.subscription import Subscription
from pydantic import BaseModel

from careloop import wiring
from careloop.practice import PracticeProfile
from careloop_local import cli

from .test_example_profiles import guide_outputs

ROOT = Path(__file__).resolve().parents[2]
GUIDE_TEXT = (ROOT / "docs" / "deploy.md").read_text()
# the AWS CLI's own options, valid on every command
AWS_GLOBAL_OPTIONS = {"query", "output", "region", "profile", "no-cli-pager", "endpoint-url", "cli-input-json"}
AWS_CLI_SERVICE = {"s3api": "s3"}  # where the CLI's name differs from botocore's


def _code() -> list[str]:
    """The guide's code, one command per item: fenced blocks with backslash continuations joined,
    split into lines, then every inline `code` span of the prose."""
    fenced = re.findall(r"^ *```[a-z]*\n(.*?)^ *```", GUIDE_TEXT, re.DOTALL | re.MULTILINE)
    lines = [line for block in fenced for line in re.sub(r"\s*\\\n\s*", " ", block).splitlines()]
    prose = re.sub(r"^ *```[a-z]*\n.*?^ *```", "", GUIDE_TEXT, flags=re.DOTALL | re.MULTILINE)
    return lines + re.findall(r"`([^`\n]+)`", prose)


CODE = _code()


def test_the_guide_has_code_to_check():
    assert len(CODE) > 100
    assert sum("aws " in c for c in CODE) >= 25


def test_every_make_target_exists():
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = {t for c in CODE for t in re.findall(r"(?:^|[;&|(]\s*|\s)make ([a-z][\w-]*)", c)}

    assert {"install", "web", "test", "synth", "synth-all"} <= named
    assert named - targets == set()


def _careloop_commands() -> list[tuple[list[str], list[str]]]:
    """(subcommand path, options on that line) for every `careloop ...` in the guide's code."""
    found = []
    for c in CODE:
        for m in re.finditer(r"(?:^|[\s/])careloop ([a-z][\w-]*)((?: [^\s]+)*)", c):
            words = m.group(2).split()
            path = [m.group(1)] + (words[:1] if m.group(1) == "ehr" and words else [])
            found.append((path, re.findall(r"(?<![\w-])--([a-z][\w-]*)", m.group(2))))
    return found


def test_every_careloop_command_and_option_exists(capsys):
    commands = _careloop_commands()
    assert {"mllp-bridge", "simulate", "audit", "call"} <= {p[0] for p, _ in commands}
    assert {("ehr", "import"), ("ehr", "replay"), ("ehr", "sign")} <= {tuple(p) for p, _ in commands}

    for path, options in commands:
        with pytest.raises(SystemExit) as exit_:
            cli.main([*path, "--help"])
        help_text = capsys.readouterr().out
        assert exit_.value.code == 0, f"careloop {' '.join(path)} is not a command"
        for option in options:
            assert re.search(rf"--{option}(?![\w-])", help_text), f"careloop {' '.join(path)} has no --{option}"


def _model_of(annotation) -> type[BaseModel] | None:
    """The pydantic model inside a field's annotation (X, X | None, tuple[X, ...]), if one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_of(arg)
        if model is not None:
            return model
    return None


def _resolves(path: str) -> bool:
    model: type[BaseModel] | None = PracticeProfile
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return False
        model = _model_of(model.model_fields[part].annotation)
    return True


def test_every_profile_field_exists():
    table = GUIDE_TEXT[GUIDE_TEXT.index("| Field | What it does |"):]
    table = table[: table.index("\n\n")]
    rows = re.findall(r"^\| `([a-z_.]+)` \|", table, re.MULTILINE)
    # dotted names in the prose whose head is a profile field (`sms.pool_id`, `voice.enabled`)
    dotted = {m for m in re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", GUIDE_TEXT)
              if m.split(".")[0] in PracticeProfile.model_fields}

    assert len(rows) >= 30 and {"sms.pool_id", "webhook_secret_ref", "voice.enabled"} <= set(rows)
    assert [f for f in [*rows, *sorted(dotted)] if not _resolves(f)] == []


def test_every_file_named_exists():
    named = set(re.findall(r"`([\w./-]+\.(?:py|json|md))`", GUIDE_TEXT)) - {"practices/<id>.json"}
    roots = (ROOT, ROOT / "layers" / "core", ROOT / "layers" / "local")
    missing = [n for n in sorted(named) if "<" not in n and not any((r / n).exists() for r in roots)]

    assert "infra/sms.py" in named and "docs/examples/pilot-scenario.json" in named
    assert missing == []


def test_every_output_read_is_in_the_outputs_table():
    read = {name for c in CODE for name in re.findall(r"\$\(out (\w+)\)", c)}

    assert {"UserPoolId", "ApiUrl", "SmsInboundTopicArn", "ConnectInstanceArn"} <= read
    assert read - set(guide_outputs()) == set()


def _aws_commands() -> list[tuple[str, str, list[str]]]:
    """(service, operation, options) for every `aws <service> <operation> ...` in the code."""
    found = []
    for c in CODE:
        starts = [m for m in re.finditer(r"(?:^|[\s(])aws ([a-z][a-z0-9-]*) ([a-z][a-z0-9-]*)", c)]
        for i, m in enumerate(starts):
            segment = c[m.end(): starts[i + 1].start() if i + 1 < len(starts) else len(c)]
            found.append((m.group(1), m.group(2), re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", segment)))
    return found


def test_every_aws_command_exists_with_its_parameters():
    session = botocore.session.get_session()
    commands = _aws_commands()
    assert {"pinpoint-sms-voice-v2", "cognito-idp", "secretsmanager", "connect", "lexv2-models"} <= {
        s for s, _, _ in commands}

    problems = []
    for service, operation, options in commands:
        model = session.get_service_model(AWS_CLI_SERVICE.get(service, service))
        by_cli_name = {xform_name(name, "-"): name for name in model.operation_names}
        if operation not in by_cli_name:
            problems.append(f"aws {service} {operation}: no such operation")
            continue
        shape = model.operation_model(by_cli_name[operation]).input_shape
        members = {xform_name(name, "-"): m for name, m in shape.members.items()} if shape else {}
        for option in options:
            if option in AWS_GLOBAL_OPTIONS:
                continue
            bare = option.removeprefix("no-")
            member = members.get(option) or members.get(bare)
            if member is None or (option != bare and option not in members and member.type_name != "boolean"):
                problems.append(f"aws {service} {operation}: no parameter --{option}")
        required = {xform_name(r, "-") for r in (shape.required_members if shape else [])}
        given = set(options) | {o.removeprefix("no-") for o in options}  # --no-x sets a boolean x
        for r in sorted(required - given):
            problems.append(f"aws {service} {operation}: --{r} is required")
    assert problems == []


def test_the_subscription_example_is_valid_r4_and_points_at_the_fhir_route():
    (block,) = [b for b in re.findall(r"```json\n(.*?)```", GUIDE_TEXT, re.DOTALL) if '"Subscription"' in b]
    data = json.loads(block)

    subscription = Subscription.model_validate(data)  # raises on anything R4B does not allow
    # the codes fhir.resources leaves to us: R4's required value sets
    assert subscription.status in ("requested", "active", "error", "off")
    assert subscription.channel.type == "rest-hook"
    assert subscription.channel.payload == "application/fhir+json"
    routes = {(r.method, r.path) for spec in wiring.FUNCTIONS if isinstance(spec.source, wiring.ApiSource)
              for r in spec.source.routes}
    assert ("POST", "/ehr/fhir") in routes
    assert subscription.channel.endpoint.endswith("/ehr/fhir")
    assert subscription.criteria.split("?")[0] in ("Appointment", "Patient")


def test_the_campaign_sample_messages_are_what_the_workflows_send(capsys):
    section = GUIDE_TEXT[GUIDE_TEXT.index("Sample messages:"):GUIDE_TEXT.index("The HELP and STOP texts")]
    samples = re.findall(r"^ *- `(.+)`$", section, re.MULTILINE)

    assert cli.main(["simulate", str(ROOT / "docs" / "examples" / "pilot-scenario.json")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    sent = {line.get("body") for line in lines}
    assert len(samples) >= 5
    assert [s for s in samples if s not in sent] == []
