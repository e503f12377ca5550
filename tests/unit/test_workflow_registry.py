"""Workflows as stored data: switch on/off and edits are versioned with who/when/why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop.engine.dispatcher import tick
from careloop.errors import ConfigError, NotFound
from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop.workflows import registry
from careloop_local.fakes import MemoryConfigs
from tests.conftest import NY

AT = datetime(2026, 12, 1, 9, tzinfo=NY)


def test_switch_off_is_versioned_and_previous_kept():
    configs = MemoryConfigs()
    wf = registry.set_enabled(configs, "confirmation-nudge", False, "frontdesk@x.test", "too many texts", AT)
    assert (wf.enabled, wf.version) == (False, 2)
    assert wf.history[-1].by == "frontdesk@x.test" and wf.history[-1].why == "too many texts"
    versions = registry.history(configs, "confirmation-nudge")
    assert [v["version"] for v in versions] == [2, 1] and versions[1]["enabled"] is True
    assert next(w for w in registry.current(configs) if w.id == "confirmation-nudge").enabled is False


def test_edit_with_unknown_template_field_is_rejected_when_saved():
    configs = MemoryConfigs()
    definition = next(w for w in registry.current(configs) if w.id == "appointment-reminder").model_dump(mode="json")
    definition["steps"][0]["action"]["template"]["en"] = "Hi {{ first_nmae }}"
    with pytest.raises(ConfigError, match="first_nmae"):
        registry.save(configs, definition, "a@x.test", "typo", AT)
    definition["steps"][0]["action"]["template"].pop("es")
    definition["steps"][0]["action"]["template"]["en"] = "Hi {{ first_name }}"
    with pytest.raises(ConfigError, match="missing translation"):
        registry.save(configs, definition, "a@x.test", "drop spanish", AT)


def test_unknown_workflow_is_not_found():
    with pytest.raises(NotFound):
        registry.set_enabled(MemoryConfigs(), "nope", True, "a", "", AT)


def test_a_switched_off_workflow_stops_planned_messages_at_fire_time(svc):
    # Given a planned reminder, stored workflows as the source of truth
    svc.workflow_source = lambda: registry.current(svc.configs)
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", phone="+16175550101")],
           [Appointment(id="a1", patient_id="p1", start=AT + timedelta(days=4))], AT)
    # When staff switch the reminder off before it is due
    registry.set_enabled(svc.configs, "appointment-reminder", False, "a@x.test", "pause", AT)
    svc.clock.set(AT + timedelta(days=2, hours=2))
    result = tick(svc)
    # Then it is skipped, not sent
    assert result.sent == [] and list(result.skipped.values()) == ["workflow is off"]
