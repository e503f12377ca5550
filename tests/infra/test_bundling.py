"""Docker-free layer bundling: pip targets the Lambda platform, its output is cached, the layer is
laid out as /opt/python, and tests skip bundling altogether. No network: pip is never really run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra import bundling

pytestmark = pytest.mark.infra


@pytest.fixture
def sources(tmp_path) -> bundling.LayerSources:
    package = tmp_path / "careloop"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text('"""core"""\n')
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"stale")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.14.4\n")
    practice = tmp_path / "clinic.json"
    practice.write_text('{"id": "clinic"}')
    return bundling.LayerSources(
        requirements=requirements, package_dir=package, practice_file=practice
    )


@pytest.fixture
def fake_pip(monkeypatch):
    """Records pip invocations and installs one fake package where pip would."""
    calls: list[list[str]] = []

    def run(command, **kwargs):
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic").mkdir(parents=True)
        (target / "pydantic" / "__init__.py").write_text("")
        (target / "bin").mkdir()
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", run)
    return calls


def test_pip_installs_wheels_for_the_lambda_platform(sources, fake_pip, tmp_path):
    bundling.install_dependencies(sources.requirements, tmp_path / "cache")

    (command,) = fake_pip
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in command
    assert "--no-deps" in command  # requirements.txt pins the whole closure


def test_platform_constants_agree():
    assert bundling.RUNTIME.name == f"python{bundling.PYTHON_VERSION}"
    assert bundling.ARCHITECTURE.name == "arm64" and bundling.PIP_PLATFORM.endswith("_aarch64")


def test_pip_runs_once_per_requirements_file(sources, fake_pip, tmp_path):
    cache = tmp_path / "cache"
    first = bundling.install_dependencies(sources.requirements, cache)
    second = bundling.install_dependencies(sources.requirements, cache)

    assert first == second and len(fake_pip) == 1
    sources.requirements.write_text("pydantic==2.14.4\njinja2==3.1.6\n")
    bundling.install_dependencies(sources.requirements, cache)
    assert len(fake_pip) == 2


def test_layer_is_laid_out_for_opt_python(sources, fake_pip, tmp_path):
    out = tmp_path / "out"
    bundling.build_layer(sources, out, tmp_path / "cache")

    python = out / "python"
    assert (python / "pydantic" / "__init__.py").is_file()
    assert (python / "careloop" / "__init__.py").is_file()
    assert json.loads((python / "careloop" / "data" / "practice.json").read_text()) == {
        "id": "clinic"
    }
    assert (
        "/opt/" + str((python / "careloop" / "data" / "practice.json").relative_to(out))
        == bundling.PRACTICE_FILE_IN_LAYER
    )
    assert not list(python.rglob("__pycache__")) and not (python / "bin").exists()


def test_a_failing_pip_is_a_clear_error(sources, monkeypatch, tmp_path):
    monkeypatch.setattr(
        bundling.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(
            command, 1, "", "ERROR: No matching distribution found for pydantic-core==0.0"
        ),
    )
    cache = tmp_path / "cache"

    with pytest.raises(bundling.BundlingError, match="No matching distribution"):
        bundling.install_dependencies(sources.requirements, cache)
    assert list(cache.iterdir()) == []  # no half-filled cache left behind


def test_fingerprint_follows_every_input(sources):
    before = sources.fingerprint()
    sources.practice_file.write_text('{"id": "clinic", "name": "changed"}')
    after_profile = sources.fingerprint()
    (sources.package_dir / "new.py").write_text("x = 1\n")
    after_code = sources.fingerprint()
    (sources.package_dir / "__pycache__" / "y.cpython-311.pyc").write_bytes(b"noise")

    assert len({before, after_profile, after_code}) == 3
    assert sources.fingerprint() == after_code  # bytecode is not an input


def test_requirements_pin_pyprojects_runtime_dependencies():
    import tomllib

    pyproject = tomllib.loads((bundling.ROOT / "pyproject.toml").read_text())
    pinned = {
        line.split("==")[0].lower(): line.split("==")[1].strip()
        for line in (bundling.ROOT / "layers/core/requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in pyproject["project"]["dependencies"]:
        name, version = requirement.split("==")
        if name.lower() in {"boto3", "botocore"}:  # provided by the Lambda runtime
            assert name.lower() not in pinned
            continue
        assert pinned.get(name.lower()) == version, name


def test_tests_skip_bundling(synth):
    """The session synth ran with aws:cdk:bundling-stacks = []: the layer asset is the source
    directory itself, unbuilt (no pip, no network), still under our content fingerprint."""
    stack = synth.build.stack
    assert stack.bundling_required is False
    manifest = json.loads((synth.assembly_dir / f"{stack.stack_name}.assets.json").read_text())
    sources = {Path(entry["source"]["path"]) for entry in manifest["files"].values()}
    assert bundling.ROOT / "layers" / "core" in sources
