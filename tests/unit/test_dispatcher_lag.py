"""The dispatcher's lag: every tick says how late the oldest due action was, and the handler
publishes it as DueActionLag (seconds) so the lag alarm fires before patients notice."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta

from careloop.engine.dispatcher import tick
from careloop.models import Appointment, Patient
from careloop.records import ingest
from tests.conftest import NY, ROOT


def _book(svc, start: datetime) -> None:
    patient = Patient(id="p1", first_name="Ana", last_name="Reyes", phone="+16175550101", language="en")
    appt = Appointment(id="a1", patient_id="p1", start=start, provider="Dr. Lee", visit_type="cleaning",
                       status="booked")
    ingest(svc.records, svc.consent, [patient], [appt], svc.clock.now())


def test_nothing_due_is_no_lag(svc):
    assert tick(svc).oldest_due_s == 0.0


def test_lag_is_the_age_of_the_oldest_due_action(svc):
    # Given a booking whose 48 h reminder fell due, and a dispatcher that stopped for 20 minutes
    _book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    due = min(a.due_at for a in svc.actions.actions.values())
    svc.clock.set(due + timedelta(minutes=20))
    # When the next tick runs, Then it reports 20 minutes of lag
    assert tick(svc).oldest_due_s == 20 * 60
    # and once the action is handed over, nothing is late any more
    assert tick(svc).oldest_due_s == 0.0


def _dispatcher_handler():
    path = ROOT / "functions" / "dispatcher" / "handler.py"
    spec = importlib.util.spec_from_file_location("careloop_fn_dispatcher_lag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_handler_publishes_the_lag_metric_on_every_tick(svc, monkeypatch, capsys):
    from careloop_local.events import LambdaContext

    # local mode (other tests in this process) switches EMF output off; Lambda has it on
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    handler = _dispatcher_handler()
    handler.metrics.clear_metrics()  # Powertools keeps one metric set per process: start from none
    monkeypatch.setattr(handler, "services", lambda: svc)
    _book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    svc.clock.set(min(a.due_at for a in svc.actions.actions.values()) + timedelta(minutes=7))

    handler.handler({}, LambdaContext("dispatcher", timeout_s=55))

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (metrics,) = [m for m in emf if "DueActionLag" in m]
    definition = {d["Name"]: d for d in metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    values = metrics["DueActionLag"] if isinstance(metrics["DueActionLag"], list) else [metrics["DueActionLag"]]
    assert values == [7 * 60] and definition["DueActionLag"]["Unit"] == "Seconds"
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Careloop"
