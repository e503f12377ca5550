"""Builds the CDK app for one practice: validate its profile, create `Careloop-<id>`, apply the
cdk-nag packs and the acknowledgements. Used by app.py and by tests/infra."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk

from careloop.errors import ConfigError
from careloop.practice import PracticeProfile, load_profile
from infra import bundling, nag
from infra.stack import CareloopStack

ROOT = bundling.ROOT
PRACTICES_DIR = ROOT / "practices"
FUNCTIONS_DIR = ROOT / "functions"
WEB_DIST = ROOT / "web" / "dist"
DEFAULT_PRACTICE = "demo"
CDK_JSON = ROOT / "cdk.json"
SKIP_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}  # CDK's own switch: assets are hashed, not built


@dataclass(frozen=True)
class Build:
    app: cdk.App
    stack: CareloopStack
    profile: PracticeProfile
    acknowledgements: list[nag.Acknowledged]


def default_context(bundle: bool = True) -> dict:
    """Context for an App created outside the CDK CLI (`python app.py`, tests).

    The CLI hands cdk.json's feature flags to the app in CDK_CONTEXT_JSON; without the CLI we read
    them ourselves, so `python app.py`, the tests and `cdk synth` produce the same template.
    """
    context = (
        {}
        if "CDK_CONTEXT_JSON" in os.environ
        else dict(json.loads(CDK_JSON.read_text())["context"])
    )
    if not bundle:
        context.update(SKIP_BUNDLING)
    return context


def stack_name(practice_id: str) -> str:
    return f"Careloop-{practice_id}"


def load_practice(
    practice_id: str, practices_dir: Path = PRACTICES_DIR
) -> tuple[PracticeProfile, Path]:
    """The validated profile of `practices/<id>.json`; ConfigError names the file and the field."""
    path = practices_dir / f"{practice_id}.json"
    profile = load_profile(path)
    if profile.id != practice_id:
        raise ConfigError(
            f"{path}: id: {profile.id!r} does not match the file name {practice_id!r}"
        )
    return profile, path


def build_app(
    practice_id: str | None = None,
    *,
    app: cdk.App | None = None,
    bundle: bool = True,
    outdir: str | None = None,
    practices_dir: Path = PRACTICES_DIR,
    functions_dir: Path = FUNCTIONS_DIR,
    web_dist: Path | None = WEB_DIST,
) -> Build:
    """The app with one practice's stack, nag packs and acknowledgements in place (not synthesised).

    practice_id defaults to the `practice` context value (`cdk synth -c practice=<id>`), then demo.
    bundle=False skips asset bundling (tests: fast and offline).
    """
    if app is None:
        app = cdk.App(outdir=outdir, context=default_context(bundle))
    practice_id = practice_id or app.node.try_get_context("practice") or DEFAULT_PRACTICE
    profile, profile_path = load_practice(practice_id, practices_dir)
    layer_sources = bundling.LayerSources(
        requirements=ROOT / "layers" / "core" / "requirements.txt",
        package_dir=ROOT / "layers" / "core" / "careloop",
        practice_file=profile_path,
    )
    stack = CareloopStack(
        app,
        stack_name(profile.id),
        profile=profile,
        layer_sources=layer_sources,
        functions_dir=functions_dir,
        web_dist=web_dist,
        description=f"Careloop patient communication for {profile.name} ({profile.id})",
        # PHI lives here: deleting the stack must be a deliberate two-step act.
        termination_protection=True,
    )
    nag.apply_packs(app)
    acknowledgements = nag.acknowledge(stack)
    return Build(app=app, stack=stack, profile=profile, acknowledgements=acknowledgements)
