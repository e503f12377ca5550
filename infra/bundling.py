"""Docker-free bundling of the careloop core layer: pip installs manylinux wheels for the Lambda
platform into a cache, then the core package and the practice profile are copied next to them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from careloop.errors import ConfigError
from infra import layer_contents

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".bundle-cache"

# One place decides the Lambda platform; the wheels pip picks must match it.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.14"

# Where the profile lands inside the layer; CARELOOP_PRACTICE_FILE points here.
PRACTICE_FILE_IN_LAYER = "/opt/python/careloop/data/practice.json"


class BundlingError(RuntimeError):
    """The layer could not be built; the message says which step failed."""


@dataclass(frozen=True)
class LayerSources:
    """Everything the core layer is built from."""

    requirements: Path
    package_dir: Path  # layers/core/careloop
    practice_file: Path

    def fingerprint(self) -> str:
        """Hash of every input, so CDK re-bundles exactly when one of them changes."""
        digest = hashlib.sha256()
        digest.update(f"{PIP_PLATFORM}|{PYTHON_VERSION}".encode())
        digest.update(self.requirements.read_bytes())
        digest.update(self.practice_file.read_bytes())
        for relative in layer_contents.package_files(self.package_dir):  # exactly what ships
            digest.update(str(relative).encode())
            digest.update((self.package_dir / relative).read_bytes())
        return digest.hexdigest()


def _dependencies_key(requirements: Path) -> str:
    digest = hashlib.sha256(f"{PIP_PLATFORM}|{PYTHON_VERSION}|".encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()[:16]


def install_dependencies(requirements: Path, cache_dir: Path = CACHE_DIR) -> Path:
    """Install the layer's wheels for the Lambda platform once per requirements file.

    Returns the cached `python/` tree. Installs into a temp dir first and renames it into place,
    so an interrupted pip never leaves a half-filled cache behind.
    """
    target = cache_dir / f"layer-deps-{_dependencies_key(requirements)}"
    if (target / "python").is_dir():
        return target / "python"
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="layer-deps-", dir=cache_dir))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--requirement",
        str(requirements),
        "--target",
        str(staging / "python"),
        "--platform",
        PIP_PLATFORM,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--no-deps",  # requirements.txt pins the full closure (and leaves boto3 to the runtime)
        "--no-compile",  # bytecode from this interpreter would not match the Lambda's Python
        "--disable-pip-version-check",
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(
            f"pip could not install {requirements} for {PIP_PLATFORM} / Python {PYTHON_VERSION}:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    for cache in (staging / "python").glob("**/__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    # Console scripts point at this machine's interpreter; nothing in Lambda runs them.
    shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another synth filled the cache meanwhile; theirs is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return target / "python"


def build_layer(sources: LayerSources, output_dir: Path, cache_dir: Path = CACHE_DIR) -> None:
    """Lay out `<output_dir>/python/...` exactly as Lambda mounts it under /opt/python."""
    found = layer_contents.problems(sources.package_dir)  # before pip: fail fast, offline
    if found:
        raise BundlingError("the core layer would ship local-mode code:\n  " + "\n  ".join(found))
    site = install_dependencies(sources.requirements, cache_dir)
    python_dir = output_dir / "python"
    shutil.copytree(site, python_dir, dirs_exist_ok=True)
    package = python_dir / "careloop"
    for relative in layer_contents.package_files(sources.package_dir):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources.package_dir / relative, package / relative)
    (package / "data").mkdir(exist_ok=True)
    shutil.copyfile(sources.practice_file, package / "data" / "practice.json")


@jsii.implements(cdk.ILocalBundling)
class LocalLayerBundling:
    """ILocalBundling that never falls back to docker: it builds the layer or raises."""

    def __init__(self, sources: LayerSources, cache_dir: Path = CACHE_DIR) -> None:
        self._sources = sources
        self._cache_dir = cache_dir

    def try_bundle(self, output_dir: str, *_options: object, **_kw: object) -> bool:
        try:
            build_layer(self._sources, Path(output_dir), self._cache_dir)
        except BundlingError:
            raise
        except Exception as exc:  # surface the real cause instead of a docker fallback
            raise BundlingError(f"building the core layer failed: {exc!r}") from exc
        return True


def core_layer_code(sources: LayerSources) -> lambda_.Code:
    """The layer's asset. Hash = our own fingerprint, so an unchanged layer is not rebuilt
    (CDK reuses cdk.out/asset.<hash>) and `aws:cdk:bundling-stacks=[]` skips bundling."""
    return lambda_.Code.from_asset(
        str(sources.package_dir.parent),
        asset_hash=sources.fingerprint(),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds or raises. Named for completeness.
            image=RUNTIME.bundling_image,
            local=LocalLayerBundling(sources),
            environment={"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        ),
    )


def function_code(function_dir: Path, extras: dict[str, Path] | None = None) -> lambda_.Code:
    """A handler directory as a plain asset (the handlers have no dependencies of their own), plus
    `extras` (name in the asset -> file), e.g. the booking page the booking function serves."""
    if not (function_dir / "handler.py").is_file():
        raise ConfigError(
            f"{function_dir / 'handler.py'}: missing, but careloop.wiring.FUNCTIONS names "
            f"{function_dir.name!r} (every function needs functions/<name>/handler.py)"
        )
    exclude = ["__pycache__", "*.pyc", "tests", ".pytest_cache"]
    if not extras:
        return lambda_.Code.from_asset(str(function_dir), exclude=exclude)
    missing = [str(path) for path in extras.values() if not path.is_file()]
    if missing:
        raise ConfigError(f"{function_dir.name}: {', '.join(missing)} missing (make web builds it)")
    digest = hashlib.sha256()
    for path in sorted(p for p in function_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(function_dir)).encode() + path.read_bytes())
    for name, path in sorted(extras.items()):
        digest.update(name.encode() + path.read_bytes())
    return lambda_.Code.from_asset(
        str(function_dir),
        exclude=exclude,
        asset_hash=digest.hexdigest(),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            image=RUNTIME.bundling_image,  # never pulled: local bundling copies or raises
            local=LocalFunctionBundling(function_dir, extras),
        ),
    )


@jsii.implements(cdk.ILocalBundling)
class LocalFunctionBundling:
    """Copies a handler directory and its extra files into the asset; never falls back to docker."""

    def __init__(self, function_dir: Path, extras: dict[str, Path]) -> None:
        self._dir, self._extras = function_dir, extras

    def try_bundle(self, output_dir: str, *_options: object, **_kw: object) -> bool:
        out = Path(output_dir)
        shutil.copytree(self._dir, out, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache"))
        for name, path in self._extras.items():
            shutil.copyfile(path, out / name)
        return True
