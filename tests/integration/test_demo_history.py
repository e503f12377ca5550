"""The demo's past (`careloop local --seed-history`): the story is the same every run, and living
it through the real pipeline leaves texts, replies, no-shows, recoveries and open threads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from careloop_local.history import plan, seed_history

NY = ZoneInfo("America/New_York")


def test_the_story_is_drawn_from_the_seed_alone():
    one, two = plan(date(2026, 12, 2), NY, seed=14), plan(date(2026, 12, 2), NY, seed=14)
    assert one == two
    assert plan(date(2026, 12, 2), NY, seed=15).visits != one.visits
    assert len({p.phone for p in one.patients}) == len(one.patients)
    # clearly fake: NANP's fictional 555-0100..0199 numbers only
    assert all(p.phone and p.phone[5:8] == "555" and 100 <= int(p.phone[8:]) <= 199 for p in one.patients)
    assert {p.language for p in one.patients} == {"en", "es"}
    assert {v.provider for v in one.visits} == {"Dr. Lee", "Dr. Patel"}
    booked = sorted(v.booked_on for v in one.visits)
    assert booked[0] < 10 and booked[-1] > 80  # bookings across the whole 90 days
    replies = {v.reply for v in one.visits}
    assert {"confirm", "cancel", "reschedule", "question", "urgent", "none"} <= replies
    assert any(v.no_show for v in one.visits) and any(v.rebooks for v in one.visits)
    assert any(v.calls for v in one.visits)


@pytest.fixture(scope="module")
def seeded(stack):
    return seed_history(stack, patients=20)  # every kind of event happens in this story, at half the default size


def test_history_lived_through_the_pipeline(stack, seeded, ports):
    from careloop import inbox

    assert seeded.replies > 0 and seeded.no_shows > 0 and seeded.rebooked > 0 and seeded.calls > 0
    assert abs(stack.clock.now() - datetime.now(UTC)) < timedelta(minutes=5)  # back to the present
    outbox = stack.standin.outbox()
    assert len(outbox) == seeded.texts_sent > seeded.visits
    first = min(datetime.fromisoformat(m["at"]) for m in outbox)
    assert datetime.now(UTC) - first > timedelta(days=75)  # texts across the window, not just today
    now = stack.clock.now()
    ninety = inbox.summary(ports.analytics, ports.practice, now, now - timedelta(days=90), now)
    for key in ("sent", "delivered", "responses", "confirmed", "no_shows", "recovered"):
        assert ninety[key] > 0, key
    assert len(ninety["by_week"]) >= 11
    assert ninety["voice"]["calls"] == seeded.calls  # each call through the voice hook is on record
    thirty = inbox.analytics(ports, None, None)
    assert thirty["sent"] > 0 and thirty["delivered"] > 0
    assert thirty["sent"] < ninety["sent"]
    threads = inbox.conversations(ports)
    # threads left open for staff: questions the agent handed over, urgent texts
    assert any(t["patient_id"].startswith("hist-") and t["needs_attention"] for t in threads)


def test_the_reminder_edited_halfway_is_compared_version_by_version(stack, seeded, ports):
    # the manager's edit at day 45 (history._edit_reminder): v1 sent the first half, v2 the second
    from careloop import inbox

    now = stack.clock.now()
    ninety = inbox.summary(ports.analytics, ports.practice, now, now - timedelta(days=90), now)
    reminder = next(w for w in ninety["versions"] if w["workflow"] == "appointment-reminder")
    assert [(r["label"], r["n"] > 0) for r in reminder["versions"]] == [("v2", True), ("v1", True)]
    assert reminder["sentence"].startswith("v2 confirmed ") and " vs v1 confirmed " in reminder["sentence"]
    assert ninety["recovered_by_careloop"] > 0 and ninety["roi"]["value"] > 0  # the no-shows rebooked through their link
