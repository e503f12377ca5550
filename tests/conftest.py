"""Shared fixtures: the in-memory core on a virtual clock, sample data paths."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
NY = ZoneInfo("America/New_York")

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture
def svc():
    from careloop_local.fakes import memory_services

    return memory_services(datetime(2026, 12, 1, 9, 0, tzinfo=NY))


@pytest.fixture
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"shared sample data not found at {DATA}")
    return DATA
