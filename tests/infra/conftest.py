"""One synthesis of the demo practice's app per test session (it takes seconds), shared by every
infra test: the CloudFormation template, the cdk-nag validation report and the build handles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import CfnElement
from aws_cdk.assertions import Template

from careloop import wiring
from infra import nag
from infra.application import FUNCTIONS_DIR, PRACTICES_DIR, Build, build_app

PROFILES = sorted(p.stem for p in PRACTICES_DIR.glob("*.json"))


@dataclass(frozen=True)
class Synth:
    build: Build
    template: Template
    resources: dict  # logical id -> resource, from the template JSON
    outputs: dict
    report: dict  # validation-report.json (cdk-nag plugins)
    assembly_dir: Path
    cdk_warnings: list[str]  # CDK's own annotations left unacknowledged

    def of_type(self, cfn_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def logical_id(self, construct) -> str:
        stack = self.build.stack
        element = construct if isinstance(construct, CfnElement) else construct.node.default_child
        return stack.resolve(stack.get_logical_id(element))


def functions_dir_for_tests(tmp: Path) -> Path:
    """The real handlers when all exist; else stand-in files (the stack only packages the dir)."""
    if all((FUNCTIONS_DIR / spec.name / "handler.py").is_file() for spec in wiring.FUNCTIONS):
        return FUNCTIONS_DIR
    for spec in wiring.FUNCTIONS:
        (tmp / spec.name).mkdir(parents=True, exist_ok=True)
        (tmp / spec.name / "handler.py").write_text(
            "def handler(event, context):\n    return None\n"
        )
    return tmp


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    root = tmp_path_factory.mktemp("infra")
    # A built web app, so the BucketDeployment branch (and its nag acknowledgements) is covered
    # whether or not web/dist exists on this machine.
    web_dist = root / "web-dist"
    web_dist.mkdir()
    (web_dist / "index.html").write_text("<!doctype html><title>Careloop</title>")
    build = build_app(
        "demo",
        bundle=False,  # context aws:cdk:bundling-stacks = []: no pip, no network
        outdir=str(root / "cdk.out"),
        functions_dir=functions_dir_for_tests(root / "functions"),
        web_dist=web_dist,
    )
    assembly = build.app.synth()  # raises if cdk-nag finds an unacknowledged error
    template_json = assembly.get_stack_by_name(build.stack.stack_name).template
    return Synth(
        build=build,
        template=Template.from_json(template_json),
        resources=template_json["Resources"],
        outputs=template_json.get("Outputs", {}),
        report=nag.read_report(assembly.directory),
        assembly_dir=Path(assembly.directory),
        cdk_warnings=nag.cdk_warnings(assembly),
    )


@dataclass(frozen=True)
class ProfileSynth:
    """One example profile's synthesis: what the guide and the nag gate are checked against."""

    build: Build
    template: dict  # the whole template JSON
    report: dict
    cdk_warnings: list[str]

    @property
    def resources(self) -> dict:
        return self.template["Resources"]

    @property
    def outputs(self) -> dict:
        return self.template.get("Outputs", {})


@pytest.fixture(scope="session")
def profile_synths(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> dict[str, ProfileSynth]:
    """Every practices/*.json synthesised once per session (demo is the shared synthesis)."""
    demo = {"Resources": synth.resources, "Outputs": synth.outputs}
    out = {"demo": ProfileSynth(synth.build, demo, synth.report, synth.cdk_warnings)}
    for practice_id in PROFILES:
        if practice_id == "demo":
            continue
        root = tmp_path_factory.mktemp(practice_id)
        web_dist = root / "web-dist"
        web_dist.mkdir()
        (web_dist / "index.html").write_text("<!doctype html><title>Careloop</title>")
        build = build_app(practice_id, bundle=False, outdir=str(root / "cdk.out"),
                          functions_dir=functions_dir_for_tests(root / "functions"), web_dist=web_dist)
        assembly = build.app.synth()  # raises on an unacknowledged cdk-nag error
        template = assembly.get_stack_by_name(build.stack.stack_name).template
        out[practice_id] = ProfileSynth(build, template, nag.read_report(assembly.directory),
                                        nag.cdk_warnings(assembly))
    return out
