"""The default workflow library and the compliance gates, scenario by scenario, through
`careloop simulate` (spec/default-workflows.md, every row and every gate)."""

from __future__ import annotations

from careloop_local.simulate import simulate

NY_START = "2026-12-01T08:00:00-05:00"


def run(events, patients=None, until="2027-01-31T23:00:00-05:00", **extra):
    scenario = {"start": NY_START, "until": until,
                "patients": patients or [{"id": "p1", "first_name": "Ana", "last_name": "Reyes", "phone": "617 555 0101"}],
                "events": events} | extra
    lines, warnings = simulate(scenario)
    assert warnings == []
    return lines


def appt(at, start, status="booked", aid="a1", pid="p1", **kw):
    return {"at": at, "type": "appointment",
            "appointment": {"id": aid, "patient": pid, "start": start, "status": status, "provider": "Dr. Lee", **kw}}


def sms(at, body, sender="p1"):
    return {"at": at, "type": "sms", "from": sender, "body": body}


def steps(lines, kinds=("sms", "task", "staff_alert")):
    return [(x["workflow"], x["step"], x["at"]) for x in lines if x["kind"] in kinds]


# -- appointment-reminder ------------------------------------------------------------------
def test_reminder_48h_before_asks_for_c_or_r():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00")])
    first = next(x for x in lines if x["kind"] == "sms")
    assert (first["step"], first["at"]) == ("reminder-48h", "2026-12-03T10:00:00-05:00")
    assert "Sat Dec 5 at 10:00 AM" in first["body"] and "Reply C to confirm or R to reschedule" in first["body"]


def test_booked_less_than_48h_ahead_sends_at_booking_if_2h_ahead():
    lines = run([appt("2026-12-02T09:00:00-05:00", "2026-12-03T10:00:00-05:00")])
    assert steps(lines)[0] == ("appointment-reminder", "reminder-48h", "2026-12-02T09:00:00-05:00")


def test_booked_under_2h_ahead_gets_no_reminder():
    assert steps(run([appt("2026-12-02T09:00:00-05:00", "2026-12-02T10:30:00-05:00")])) == []


def test_reschedule_cancels_the_old_plan_and_plans_the_new_time():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                 appt("2026-12-02T12:00:00-05:00", "2026-12-10T15:00:00-05:00"),
                 sms("2026-12-08T15:30:00-05:00", "C")])
    reminders = [s for s in steps(lines) if s[1] == "reminder-48h"]
    assert reminders == [("appointment-reminder", "reminder-48h", "2026-12-08T15:00:00-05:00")]


# -- confirmation-nudge ---------------------------------------------------------------------
def test_nudge_24h_after_the_reminder_only_if_unconfirmed():
    unconfirmed = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00")])
    assert ("confirmation-nudge", "nudge-24h", "2026-12-04T10:00:00-05:00") in steps(unconfirmed)
    confirmed = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                     sms("2026-12-03T12:00:00-05:00", "C")])
    assert [s for s in steps(confirmed) if s[0] == "confirmation-nudge"] == []


def test_no_nudge_when_cancelled_or_already_started():
    cancelled = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                     appt("2026-12-03T12:00:00-05:00", "2026-12-05T10:00:00-05:00", status="cancelled")])
    assert [s[1] for s in steps(cancelled)] == ["reminder-48h"]
    # booked 20 h ahead: the reminder goes at booking, the nudge would land after the start
    late = run([appt("2026-12-02T14:00:00-05:00", "2026-12-03T10:00:00-05:00")])
    assert [s[1] for s in steps(late)] == ["reminder-48h"]


# -- no-show-recovery ------------------------------------------------------------------------
def test_no_show_recovery_text_within_2h_then_staff_task_if_not_rebooked():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                 appt("2026-12-05T10:30:00-05:00", "2026-12-05T10:00:00-05:00", status="noshow")])
    recovery = next(x for x in lines if x.get("step") == "recovery-sms")
    assert recovery["at"] <= "2026-12-05T12:30:00-05:00" and "https://book.example.test/maple" in recovery["body"]
    task = next(x for x in lines if x.get("step") == "rebook-alert")
    assert task["kind"] == "task" and task["at"].startswith("2026-12-06") and task["priority"] == "normal"


def test_no_show_rebooked_means_no_staff_task():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                 appt("2026-12-05T10:30:00-05:00", "2026-12-05T10:00:00-05:00", status="noshow"),
                 appt("2026-12-05T15:00:00-05:00", "2026-12-12T10:00:00-05:00", aid="a2")])
    assert not any(x.get("step") == "rebook-alert" for x in lines)


# -- post-visit --------------------------------------------------------------------------------
def test_post_visit_sequence_with_follow_up_and_final_task():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00", visit_type="extraction"),
                 sms("2026-12-03T10:30:00-05:00", "C"),
                 appt("2026-12-05T11:00:00-05:00", "2026-12-05T10:00:00-05:00", status="fulfilled", visit_type="extraction")])
    post = [(s[1], s[2][:10]) for s in steps(lines) if s[0] == "post-visit"]
    assert post == [("care-instructions", "2026-12-05"), ("check-in-48h", "2026-12-07"),
                    ("follow-up-7d", "2026-12-12"), ("re-engage-30d", "2027-01-04"), ("no-reply-task", "2027-01-07")]
    care = next(x for x in lines if x.get("step") == "care-instructions")
    # 2 h after the visit ended (10:30), not after the EHR reported it (11:00): issue #10, item 1
    assert care["at"] == "2026-12-05T12:30:00-05:00" and "https://survey.example.test/maple" in care["body"]
    assert "today" in care["body"]


def test_post_visit_follow_up_skipped_for_a_cleaning_or_when_booked():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00", visit_type="cleaning"),
                 appt("2026-12-05T11:00:00-05:00", "2026-12-05T10:00:00-05:00", status="fulfilled", visit_type="cleaning"),
                 appt("2026-12-06T11:00:00-05:00", "2027-06-05T10:00:00-05:00", aid="a2")])
    post = [s[1] for s in steps(lines) if s[0] == "post-visit"]
    assert post == ["care-instructions", "check-in-48h"]


# -- gates ---------------------------------------------------------------------------------------
def test_stop_gets_one_confirmation_then_silence_until_start():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
                 sms("2026-12-02T09:00:00-05:00", "STOP"), sms("2026-12-02T09:05:00-05:00", "stop"),
                 appt("2026-12-02T10:00:00-05:00", "2026-12-20T10:00:00-05:00", aid="a2"),
                 sms("2026-12-10T09:00:00-05:00", "START")])
    texts = steps(lines)
    assert texts[0][:2] == ("sms-agent", "opt_out") and [t[1] for t in texts].count("opt_out") == 1
    assert [t for t in texts if "2026-12-02T09:00:00-05:00" < t[2] < "2026-12-10"] == []
    assert ("appointment-reminder", "reminder-48h", "2026-12-18T10:00:00-05:00") in texts
    assert lines[-1]["opted_out"] is False


def test_spanish_opt_out_and_help():
    lines = run([sms("2026-12-02T09:00:00-05:00", "AYUDA"), sms("2026-12-02T10:00:00-05:00", "Alto.")],
                patients=[{"id": "p1", "first_name": "Ana", "phone": "6175550101", "language": "es"}])
    help_, stop = [x for x in lines if x["kind"] == "sms"]
    assert "Maple Family Dental" in help_["body"] and "(617) 555-0100" in help_["body"]
    assert stop["step"] == "opt_out" and lines[-1]["opted_out"] is True


def test_quiet_hours_in_the_patients_zone():
    # 48 h before a 07:30 appointment is 07:30: held to 08:00 in the patient's zone (Los Angeles)
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T07:30:00-08:00")],
                patients=[{"id": "p1", "first_name": "Ana", "phone": "617 555 0101", "timezone": "America/Los_Angeles"}])
    reminder = next(x for x in lines if x["kind"] == "sms")
    assert reminder["at"] == "2026-12-03T11:00:00-05:00"  # 08:00 in Los Angeles
    # in the patient's zone (the spec), and, as the office's clock (Boston) reads otherwise, both named
    assert "Sat Dec 5 at 7:30 AM PT (10:30 AM ET)" in reminder["body"]


def test_pre_appointment_text_that_would_land_after_the_start_is_dropped():
    # booked at 21:30 for 07:00 next morning: quiet hours would hold it to 08:00, after the start
    assert steps(run([appt("2026-12-01T21:30:00-05:00", "2026-12-02T07:00:00-05:00")])) == []


def test_one_text_a_day_nearer_appointment_wins():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00", aid="a1"),
                 appt("2026-12-01T09:00:00-05:00", "2026-12-05T11:00:00-05:00", aid="a2")])
    reminders = [x for x in lines if x.get("step") == "reminder-48h"]
    assert [(r["appointment"], r["at"][:10]) for r in reminders] == [("a1", "2026-12-03"), ("a2", "2026-12-04")]


def test_three_a_week_cap():
    events = [appt("2026-12-01T08:00:00-05:00", f"2026-12-{d:02d}T10:00:00-05:00", aid=f"a{d}") for d in (4, 5, 6, 7, 8)]
    lines = run(events, until="2026-12-09T23:00:00-05:00")
    automated = [x["at"] for x in lines if x["kind"] == "sms"]
    assert len(automated) == 3


def test_dst_change_keeps_48_real_hours_and_local_wording():
    # US DST ends 2026-11-01: 48 h before Mon Nov 2 10:00 EST is Sat Oct 31 11:00 EDT
    lines = run([appt("2026-10-28T09:00:00-04:00", "2026-11-02T10:00:00-05:00")],
                until="2026-11-03T00:00:00-05:00", start="2026-10-28T08:00:00-04:00")
    reminder = next(x for x in lines if x["kind"] == "sms")
    assert reminder["at"] == "2026-10-31T11:00:00-04:00" and "Mon Nov 2 at 10:00 AM" in reminder["body"]


def test_redelivered_events_send_nothing_twice():
    events = [appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"), sms("2026-12-03T11:00:00-05:00", "C")]
    assert run(events) == run(events * 3)


def test_spanish_patient_gets_spanish_date_format():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00")],
                patients=[{"id": "p1", "first_name": "Ana", "phone": "617 555 0101", "language": "es"}])
    assert "sáb 5 dic a las 10:00" in next(x for x in lines if x["kind"] == "sms")["body"]


def test_shared_phone_reply_confirms_the_appointment_last_texted_about():
    family = [{"id": "mom", "first_name": "Maria", "phone": "617-555-0103", "language": "es"},
              {"id": "kid", "first_name": "Leo", "phone": "(617) 555-0103", "language": "es"}]
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00", aid="am", pid="mom"),
                 appt("2026-12-01T09:00:00-05:00", "2026-12-08T10:00:00-05:00", aid="ak", pid="kid"),
                 sms("2026-12-06T12:00:00-05:00", "si", sender="+16175550103")], patients=family)
    # the last text before the reply was Leo's reminder (Sat Dec 6 10:00): his appointment is confirmed
    states = {x["appointment"]: x["confirmed"] for x in lines if x["kind"] == "appointment_state"}
    assert states == {"am": False, "ak": True}
    reply = next(x for x in lines if x.get("workflow") == "sms-agent")
    assert reply["patient"] == "kid" and "Leo" in reply["body"]
