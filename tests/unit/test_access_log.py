"""The PHI access log's core: entries keyed by request, written once, exported as CSV in time order
with no spreadsheet formula from data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from careloop.audit import ACCESS_CSV_COLUMNS, access_entry, access_log_csv, record_access
from careloop_local.fakes import MemoryAccessLog

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_same_request_is_one_entry_and_a_rewrite_is_refused():
    log = MemoryAccessLog()
    first = access_entry(AT, "desk@maple.test", "open_thread", "p-1", "req-1")
    assert record_access(log, first) is True
    # the request redelivered a second later: same key, nothing overwritten
    again = access_entry(AT + timedelta(seconds=1), "desk@maple.test", "open_thread", "p-1", "req-1")
    assert again["key"] == first["key"] and record_access(log, again) is False
    assert [e["at"] for e in log.access_entries()] == [AT.isoformat()]
    # another request, or another patient, is another entry
    assert record_access(log, access_entry(AT, "desk@maple.test", "open_thread", "p-2", "req-1")) is True
    assert record_access(log, access_entry(AT, "desk@maple.test", "open_thread", "p-1", "req-2")) is True
    assert len(log.access_entries()) == 3


def test_an_unknown_action_is_a_clear_error():
    with pytest.raises(ValueError, match="one of open_thread, open_patient, export"):
        access_entry(AT, "a@maple.test", "peek", "p-1", "r")


def test_the_export_is_in_time_order_and_formula_safe():
    entries = [access_entry(AT + timedelta(minutes=5), "b@maple.test", "export", "/consent/export.csv", "r2"),
               access_entry(AT, "=cmd@maple.test", "open_patient", "p-1", "r1")]
    rows = list(csv.reader(io.StringIO(access_log_csv(entries))))
    assert tuple(rows[0]) == ACCESS_CSV_COLUMNS
    assert [r[2] for r in rows[1:]] == ["open_patient", "export"]
    assert rows[1][1] == "'=cmd@maple.test"
