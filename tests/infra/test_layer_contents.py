"""The Lambda layer holds only what Lambda runs: the careloop core package, without local mode,
the CLI or the simulator, and without any module that imports moto, werkzeug or flask."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from infra import bundling, layer_contents

pytestmark = pytest.mark.infra

CORE = bundling.ROOT / "layers" / "core" / "careloop"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_real_layer_ships_the_core_package_only():
    # Given the files the bundling step will copy into /opt/python/careloop
    files = layer_contents.package_files(CORE)
    # Then the domain core is there and nothing of local mode is
    assert Path("__init__.py") in files and Path("wiring.py") in files and Path("adapters/aws.py") in files
    for relative in files:
        parts = {*relative.parts[:-1], relative.stem}
        assert not parts & {"careloop_local", "cli", "simulate", "simulator"}, relative
        assert "__pycache__" not in relative.parts and relative.suffix != ".pyc", relative
    for relative in (f for f in files if f.suffix == ".py"):
        assert not _imports(CORE / relative) & {"moto", "werkzeug", "flask", "careloop_local"}, relative
    assert layer_contents.problems(CORE) == []


def test_the_layer_asset_is_built_from_layers_core_only():
    sources = bundling.LayerSources(requirements=bundling.ROOT / "layers/core/requirements.txt",
                                    package_dir=CORE, practice_file=bundling.ROOT / "practices/demo.json")
    assert sources.package_dir.parent == bundling.ROOT / "layers" / "core"
    assert not (sources.package_dir.parent / "careloop_local").exists()


@pytest.fixture
def local_leak(tmp_path) -> bundling.LayerSources:
    package = tmp_path / "careloop"
    package.mkdir()
    (package / "__init__.py").write_text('"""core"""\n')
    (package / "cli.py").write_text("import argparse\n")
    (package / "emulator.py").write_text("def start():\n    from moto.server import ThreadedMotoServer\n")
    (package / "web.py").write_text("import werkzeug.serving\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.14.4\n")
    practice = tmp_path / "clinic.json"
    practice.write_text('{"id": "clinic"}')
    return bundling.LayerSources(requirements=requirements, package_dir=package, practice_file=practice)


def test_a_local_only_module_or_import_stops_the_bundle_before_pip(local_leak, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bundling.subprocess, "run", lambda *a, **k: calls.append(a))
    found = layer_contents.problems(local_leak.package_dir)
    assert any(p.startswith("cli.py: local-only module") for p in found)
    assert any(p.startswith("emulator.py: imports moto") for p in found)  # even a lazy import
    assert any(p.startswith("web.py: imports werkzeug") for p in found)

    with pytest.raises(bundling.BundlingError, match="local-mode code"):
        bundling.build_layer(local_leak, tmp_path / "out", tmp_path / "cache")
    assert calls == []  # no pip


def test_what_is_listed_is_exactly_what_is_copied(tmp_path, monkeypatch):
    package = tmp_path / "careloop"
    (package / "engine" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "engine" / "__init__.py").write_text("")
    (package / "engine" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"stale")
    (package / "data").mkdir()
    (package / "data" / "model.json").write_text("{}")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.14.4\n")
    practice = tmp_path / "clinic.json"
    practice.write_text('{"id": "clinic"}')

    def pip(command, **_):
        (Path(command[command.index("--target") + 1]) / "pydantic").mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", pip)
    sources = bundling.LayerSources(requirements=requirements, package_dir=package, practice_file=practice)
    bundling.build_layer(sources, tmp_path / "out", tmp_path / "cache")

    copied = tmp_path / "out" / "python" / "careloop"
    shipped = sorted(p.relative_to(copied) for p in copied.rglob("*") if p.is_file())
    listed = layer_contents.package_files(package)
    assert listed == [Path("__init__.py"), Path("data/model.json"), Path("engine/__init__.py")]
    assert shipped == sorted([*listed, Path("data/practice.json")])  # plus the practice profile


def test_zipped_size_is_what_a_zip_of_the_files_weighs(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n" * 1000)
    size = layer_contents.zipped_size(tmp_path, [Path("a.py")])
    assert 0 < size < 6000


def test_every_module_in_the_layer_is_one_a_handler_runs():
    # Given every handler and what it imports, at the top or lazily, through the core
    handlers = sorted((bundling.ROOT / "functions").glob("*/handler.py"))
    assert len(handlers) >= 8
    # Then no module of the layer is unreachable: operator tools (bulk import, MLLP bridge, replay)
    # and local mode live in layers/local
    assert layer_contents.unreachable_modules(CORE, handlers) == []


def test_a_module_no_handler_imports_is_reported(tmp_path):
    # Given a package whose handler imports one module lazily and not the other
    pkg = tmp_path / "careloop"
    (pkg / "ehr").mkdir(parents=True)
    for name in ("__init__.py", "used.py", "ehr/__init__.py", "ehr/tool.py"):
        (pkg / name).write_text("")
    (pkg / "used.py").write_text("from . import ehr\n")
    handler = tmp_path / "handler.py"
    handler.write_text("def handler(event, context):\n    from careloop.used import x\n")
    # Then only the module nothing reaches is reported
    assert layer_contents.unreachable_modules(pkg, [handler]) == ["careloop.ehr.tool"]
