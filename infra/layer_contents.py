"""What the core Lambda layer contains, decided before anything is copied: the careloop package
files minus bytecode, checked so nothing of local mode (moto, werkzeug, flask, careloop_local) ships."""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path

# Caches and build litter never go into the layer (bundling copies with the same patterns).
IGNORED_PARTS = ("__pycache__", ".pytest_cache")
IGNORED_SUFFIXES = (".pyc", ".pyo")
IGNORED_DIR_SUFFIXES = (".egg-info",)
# Local mode, the CLI and the simulator live in layers/local; these never run in Lambda.
FORBIDDEN_IMPORTS = ("moto", "werkzeug", "flask", "careloop_local")
FORBIDDEN_MODULES = ("cli", "simulate", "simulator", "careloop_local")


def is_ignored(relative: Path) -> bool:
    return (
        any(part in IGNORED_PARTS or part.endswith(IGNORED_DIR_SUFFIXES) for part in relative.parts)
        or relative.suffix in IGNORED_SUFFIXES
    )


def package_files(package_dir: Path) -> list[Path]:
    """Every file of the package the layer ships, relative to the package, sorted."""
    return sorted(
        path.relative_to(package_dir)
        for path in package_dir.rglob("*")
        if path.is_file() and not is_ignored(path.relative_to(package_dir))
    )


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module a Python source imports (absolute imports, anywhere in it)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def problems(package_dir: Path) -> list[str]:
    """Why this package must not be the layer ([] when it may): local-only modules or imports."""
    found = []
    for relative in package_files(package_dir):
        stems = {relative.stem, *relative.parts[:-1]}
        if stems & set(FORBIDDEN_MODULES):
            found.append(f"{relative}: local-only module (belongs in layers/local)")
        if relative.suffix == ".py":
            bad = imported_modules((package_dir / relative).read_text()) & set(FORBIDDEN_IMPORTS)
            if bad:
                found.append(f"{relative}: imports {', '.join(sorted(bad))} (local mode only)")
    return found


def _module_file(package_root: Path, name: str) -> Path | None:
    base = package_root / Path(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _careloop_imports(path: Path, module: str, package: str) -> set[str]:
    """Every `package...` module `path` imports, at the top or inside a function (lazy imports
    run in Lambda too), with `from a import b` counted as both `a` and `a.b`."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                parts = parts[: len(parts) - node.level + (1 if is_package else 0)]
                name = ".".join(parts + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found |= {name} | {f"{name}.{alias.name}" for alias in node.names}
    return {n for n in found if n == package or n.startswith(package + ".")}


def unreachable_modules(package_dir: Path, handlers: list[Path]) -> list[str]:
    """Modules of the package that no handler can import, directly or through other modules:
    the layer holds only what Lambda runs, so each of these belongs in layers/local."""
    package, package_root = package_dir.name, package_dir.parent
    seen: set[str] = set()
    todo = [name for h in handlers for name in _careloop_imports(h, "handler", package)]
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            path = _module_file(package_root, name)
            if path is not None and name not in seen:
                seen.add(name)
                todo += _careloop_imports(path, name, package)
    every = set()
    for relative in package_files(package_dir):
        if relative.suffix == ".py":
            path_parts = relative.with_suffix("").parts
            every.add(".".join((package, *(path_parts[:-1] if path_parts[-1] == "__init__" else path_parts))))
    return sorted(every - seen)


def zipped_size(root: Path, files: list[Path]) -> int:
    """Bytes of `files` (relative to root) as one deflated zip, as Lambda receives the layer."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            archive.write(root / relative, str(relative))
    return buffer.tell()
