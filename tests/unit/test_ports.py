"""The persistence ports: each Protocol, its DynamoDB adapter and its one in-memory fake offer
the same methods, and Services holds each port by name (no catch-all store)."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from pathlib import Path

import pytest

from careloop import ports
from careloop.adapters import dynamo
from careloop_local import fakes

CORE = Path(ports.__file__).resolve().parent

PORTS = [
    (ports.RecordStore, dynamo.DynamoRecords, fakes.MemoryRecords, "records"),
    (ports.ActionStore, dynamo.DynamoActions, fakes.MemoryActions, "actions"),
    (ports.MessageStore, dynamo.DynamoMessages, fakes.MemoryMessages, "messages"),
    (ports.ConsentLedgerStore, dynamo.DynamoConsent, fakes.MemoryConsent, "consent"),
    (ports.ConfigStore, dynamo.DynamoConfigs, fakes.MemoryConfigs, "configs"),
    (ports.InboxStore, dynamo.DynamoInbox, fakes.MemoryInbox, "inbox"),
    (ports.AnalyticsSource, dynamo.DynamoAnalytics, fakes.MemoryAnalytics, "analytics"),
    (ports.BookingStore, dynamo.DynamoBooking, fakes.MemoryBooking, "booking"),
]


def public_methods(cls) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


@pytest.mark.parametrize(("port", "adapter", "fake", "_"), PORTS, ids=[p[3] for p in PORTS])
def test_adapter_and_fake_offer_exactly_the_ports_methods(port, adapter, fake, _):
    # Given a port, When its adapter and its fake are compared with it, Then nothing is missing
    # and nothing extra is public (a caller can rely on no more than the port says)
    wanted = public_methods(port)
    assert wanted, f"{port.__name__} declares no methods"
    assert public_methods(adapter) == wanted
    assert public_methods(fake) == wanted


@pytest.mark.parametrize(("port", "adapter", "fake", "_"), PORTS, ids=[p[3] for p in PORTS])
def test_signatures_match_the_port(port, adapter, fake, _):
    for name in public_methods(port):
        declared = list(inspect.signature(getattr(port, name)).parameters)
        assert list(inspect.signature(getattr(fake, name)).parameters) == declared, f"{fake.__name__}.{name}"
        assert list(inspect.signature(getattr(adapter, name)).parameters) == declared, f"{adapter.__name__}.{name}"


def test_services_hold_each_port_by_name(svc):
    names = {f.name for f in fields(ports.Services)}
    assert {p[3] for p in PORTS} <= names and "store" not in names
    for _, _, fake, name in PORTS:
        assert isinstance(getattr(svc, name), fake), name


def test_the_deployed_wiring_shares_one_client_and_table_set(monkeypatch):
    # Given the deployed wiring (no AWS call is made to build it)
    from careloop.adapters import aws

    class FakeClient:  # stands in for the boto3 client the adapters would share
        pass

    monkeypatch.setattr(dynamo, "client", lambda name: FakeClient())
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the other clients are built, never called
    aws.reset()
    try:
        svc = aws.services()
        # Then every persistence port is its DynamoDB adapter, all on one table set
        tables = {id(getattr(svc, name).t) for *_, name in PORTS}
        assert len(tables) == 1
        for _, adapter, _, name in PORTS:
            assert isinstance(getattr(svc, name), adapter), name
    finally:
        aws.reset()


def test_the_core_layer_never_imports_the_fakes_nor_probes_a_port():
    # the Lambda layer ships layers/core only: the fakes stay out of it, and a port is a
    # Protocol, so no caller asks an object whether it has a method
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("careloop_local"), path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "hasattr", f"{path}:{node.lineno}"
