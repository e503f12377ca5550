"""Missed opt-outs (issue #10, item 2): a carrier keyword on a line of its own ("Thanks\\nSTOP") or
spelled out ("S T O P") is an opt-out: one confirmation, and the next reminder does not go out."""

from __future__ import annotations

import pytest

from careloop_local.simulate import simulate


@pytest.mark.parametrize("body", ["Thanks\nSTOP", "S T O P", "s.t.o.p", "ok thank you\n\nSTOP 🛑", "St op"])
def test_an_opt_out_in_another_form_stops_the_next_reminder(body):
    lines, _ = simulate({
        "start": "2026-12-01T08:00:00-05:00", "until": "2026-12-20T08:00:00-05:00", "workflows": "default",
        "patients": [{"id": "p1", "first_name": "Ana", "phone": "(617) 555-0101"}],
        "events": [
            {"at": "2026-12-01T09:00:00-05:00", "type": "sms", "from": "p1", "body": body},
            {"at": "2026-12-02T09:00:00-05:00", "type": "appointment",
             "appointment": {"id": "a1", "patient": "p1", "start": "2026-12-10T10:00:00-05:00"}},
        ]})
    texts = [x for x in lines if x["kind"] == "sms"]
    assert [(x["workflow"], x["step"]) for x in texts] == [("sms-agent", "opt_out")]
    assert "no longer receive" in texts[0]["body"]
    assert next(x for x in lines if x["kind"] == "patient_state")["opted_out"] is True
