"""HL7 v2 mapping (careloop.ehr.hl7v2): every vendored SIU/ADT sample (checked against the FHIR
Converter's output where it has one), batches, line endings, ACKs and hostile messages."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone

import hl7
import pytest

from careloop.clock import FixedClock, use_clock
from careloop.ehr.hl7v2 import ack_for, build_ack, parse_hl7v2, read_header
from careloop.errors import PayloadError
from careloop.practice import demo_profile
from tests.conftest import DATA

SAMPLES = DATA / "microsoft-FHIR-Converter" / "hl7v2"
CONVERTED = DATA / "microsoft-FHIR-Converter" / "expected-fhir"
BATCH_FILE = DATA / "python-hl7" / "sample_file_adt_a04_batch.hl7"
PLUS_0215 = timezone(timedelta(hours=2, minutes=15))
UTC = UTC


@pytest.fixture(autouse=True)
def fixed_clock():
    previous = use_clock(FixedClock(datetime(2025, 3, 3, 15, 0, tzinfo=UTC)))
    yield
    use_clock(previous)


@pytest.fixture
def profile():
    return demo_profile()  # America/New_York; providers lee/patel; location "main"


def msh(message_type: str, control_id: str = "CTRL-1", version: str = "2.3",
        sent: str = "20250303091500") -> str:
    return f"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|{sent}||{message_type}|{control_id}|P|{version}"


def seg(name: str, fields: dict[int, str]) -> str:
    return "|".join([name, *(fields.get(i, "") for i in range(1, max(fields) + 1))])


def pid(**overrides: str) -> str:
    fields = {1: "1", 3: "MRN-1^^^MAPLE^MR~123-45-6789^^^SSA^SS", 5: "Rivera^Ana", 7: "19800101",
              13: "^PRN^CP^^1^617^5550101", 15: "SPA^Spanish"}
    fields.update({int(k[1:]): v for k, v in overrides.items()})
    return seg("PID", fields)


def sch(**overrides: str) -> str:
    fields = {1: "A-100^PMS", 2: "F-200", 7: "CHECKUP^Checkup", 9: "45", 10: "MIN",
              11: "^^M45^20250310140000^20250310144500", 25: "Booked"}
    fields.update({int(k[1:]): v for k, v in overrides.items()})
    return seg("SCH", fields)


def siu(trigger: str = "S12", *, sch_segment: str | None = None, pid_segment: str | None = "",
        extra: tuple[str, ...] = (), sep: str = "\r", **msh_args) -> str:
    segments = [msh(f"SIU^{trigger}", **msh_args), sch_segment or sch()]
    if pid_segment is not None:
        segments.append(pid_segment or pid())
    segments += ["RGS|1", "AIP|1||lee^Lee^Jane^^^Dr|DDS", "AIL|1||main^^^MAPLE", *extra]
    return sep.join(segments) + sep


def issues_of(body, profile) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        parse_hl7v2(body, profile)
    return caught.value.issues


def resource(bundle: dict, rtype: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)


# ---- the shared samples --------------------------------------------------------------------------

SIU_EXPECTED = {
    # file: (event, status, start as written, minutes, provider, location, visit type)
    "SIU-S12-01.hl7": ("SIU^S12", "booked", datetime(2021, 9, 24, 9, 30, tzinfo=PLUS_0215), 50,
                       "Robert GE", "GH Clinic, 055, Room01", "emergency"),
    "SIU-S12-02.hl7": ("SIU^S12", "booked", datetime(2021, 8, 18, 11, 30, tzinfo=PLUS_0215), 60,
                       "Tim PB", "GHH Hospital, LabUnit101, Lab Room 01", "checkup"),
    "SIU-S14-01.hl7": ("SIU^S14", "booked", datetime(2021, 9, 24, 9, 30, tzinfo=PLUS_0215), 50,
                       "Robert GE", "GH Clinic, 055, Room02", "emergency"),
    "SIU-S14-02.hl7": ("SIU^S14", "booked", datetime(2021, 8, 18, 11, 30, tzinfo=PLUS_0215), 60,
                       "Tim PB", "GHH Hospital, LabUnit102, Lab Room 01", "checkup"),
    "SIU-S15-01.hl7": ("SIU^S15", "cancelled", datetime(2021, 9, 24, 9, 30, tzinfo=PLUS_0215), 50,
                       "Robert GE", "GH Clinic, 055, Room01", "emergency"),
    "SIU-S15-02.hl7": ("SIU^S15", "cancelled", datetime(2021, 8, 18, 11, 30, tzinfo=PLUS_0215), 60,
                       "Tim PB", "GHH Hospital, LabUnit101, Lab Room 01", "checkup"),
    "SIU-S26-01.hl7": ("SIU^S26", "noshow", datetime(2021, 9, 24, 9, 30, tzinfo=PLUS_0215), 50,
                       "Robert GE", "GH Clinic, 055, Room01", "emergency"),
    "SIU-S26-02.hl7": ("SIU^S26", "noshow", datetime(2021, 8, 18, 11, 30, tzinfo=PLUS_0215), 60,
                       "Tim PB", "GHH Hospital, LabUnit101, Lab Room 01", "checkup"),
}


def test_every_sample_file_is_covered():
    assert {p.name for p in SAMPLES.glob("SIU-*.hl7")} == set(SIU_EXPECTED)


@pytest.mark.parametrize("name", sorted(SIU_EXPECTED))
def test_siu_samples(name, profile):
    # Given one of the FHIR Converter's v2.8 SIU samples (LF line endings, TQ1 timing)
    event, status, start, minutes, provider, location, visit_type = SIU_EXPECTED[name]
    (batch,) = parse_hl7v2((SAMPLES / name).read_bytes(), profile)
    # Then the appointment and its patient carry the sample's facts
    (a,) = batch.appointments
    assert (batch.event, batch.version, batch.source) == (event, "2.8", "hl7v2")
    assert (a.id, a.patient_id, a.status, a.minutes) == ("12345", "PATID1234", status, minutes)
    assert a.start == start and a.start.utcoffset() == timedelta(hours=2, minutes=15)  # offset honoured
    assert (a.provider, a.location, a.visit_type) == (provider, location, visit_type)
    (p,) = batch.patients
    assert (p.id, p.first_name, p.last_name, p.language) == ("PATID1234", "ADAM", "EVERYMAN", "en")
    assert p.identifiers == ["test1|PATID1234"]  # the SSN repetition is not kept
    assert p.tags == ["deceased"]  # PID-30 = Y
    assert a.source_version == p.source_version == batch.patients[0].source_version
    assert batch.message_id.startswith("MSG000")


def test_siu_sample_phones_are_warnings_without_digits(profile):
    # Given the sample's PID-13: an expired cellular number, then "12121212" (CP), and PID-14
    (batch,) = parse_hl7v2((SAMPLES / "SIU-S12-01.hl7").read_bytes(), profile)
    # Then the expired one is skipped and the others are unreadable warnings, numbers withheld
    assert batch.patients[0].phone is None
    assert batch.warnings[:3] == [
        "Patient/PATID1234: PID-13 repetition 2 is not a valid phone number for region US",
        "Patient/PATID1234: PID-14 repetition 1 is not a valid phone number for region US",
        "Patient/PATID1234: no SMS-capable phone",
    ]
    assert "12121212" not in " ".join(batch.warnings) and "7777" not in " ".join(batch.warnings)


@pytest.mark.parametrize("hl7_name, expected_name", [
    ("SIU-S12-01.hl7", "SIU-S12-01-expected.json"),
    ("SIU-S15-01.hl7", "SIU-S15-01-expected.json"),
])
def test_siu_agrees_with_the_fhir_converter(hl7_name, expected_name, profile):
    # Given an SIU sample and the R4 bundle Microsoft's FHIR Converter made from it
    (batch,) = parse_hl7v2((SAMPLES / hl7_name).read_bytes(), profile)
    bundle = json.loads((CONVERTED / expected_name).read_text())
    appt, patient = resource(bundle, "Appointment"), resource(bundle, "Patient")
    a, p = batch.appointments[0], batch.patients[0]
    # Then the instant, the end, the status, the ids and the name agree
    assert a.start == datetime.fromisoformat(appt["start"])  # same instant, other offset
    assert a.start + timedelta(minutes=a.minutes) == datetime.fromisoformat(appt["end"])
    assert a.status == appt["status"]
    assert a.id in {i["value"] for i in appt["identifier"]}
    assert p.id in {i["value"] for i in patient["identifier"]}
    names = {(n.get("family"), (n.get("given") or [""])[0]) for n in patient["name"]}
    assert (p.last_name, p.first_name) in names


def test_adt_v23_agrees_with_the_fhir_converter(profile):
    # Given the v2.3 ADT^A04 sample (UTF-8 BOM, LF endings, processing id T)
    (batch,) = parse_hl7v2((SAMPLES / "ADT04-251.hl7").read_bytes(), profile)
    expected = resource(json.loads((CONVERTED / "ADT04-251-expected.json").read_text()), "Patient")
    (p,) = batch.patients
    # Then Jane Doe maps as the converter has her; the next of kin's phones are not hers
    assert (p.id, p.first_name, p.last_name) == ("MRN12345", "Jane", "Doe")
    assert (expected["name"][0]["family"], expected["name"][0]["given"][0]) == ("Doe", "Jane")
    assert p.id == expected["identifier"][0]["value"]
    assert p.identifiers == ["|MRN12345"] and p.phone is None
    assert (batch.event, batch.version, batch.message_id) == ("ADT^A04", "2.3", "1270326314")
    assert p.source_version == "2019-05-04T11:12:05.000000Z"  # MSH-7 +0700, in UTC
    assert batch.warnings == ["MSH-11: processing id T (training message)",
                              "Patient/MRN12345: no SMS-capable phone"]


@pytest.mark.parametrize("name, event", [
    ("ADT-A04-01.hl7", "ADT^A04"), ("ADT-A04-02.hl7", "ADT^A04"),
    ("ADT-A08-01.hl7", "ADT^A08"), ("ADT-A08-02.hl7", "ADT^A08"),
])
def test_adt_samples(name, event, profile):
    # Given a v2.8 ADT sample (MSH-7 1989-08-18 11:26 +02:15)
    (batch,) = parse_hl7v2((SAMPLES / name).read_bytes(), profile)
    # Then the patient maps and nothing else does
    (p,) = batch.patients
    assert batch.event == event and batch.appointments == []
    assert (p.id, p.first_name, p.last_name, p.language) == ("PATID1234", "ADAM", "EVERYMAN", "en")
    assert p.source_version == "1989-08-18T09:11:00.000000Z"
    assert p.updated_at == datetime(1989, 8, 18, 11, 26, tzinfo=PLUS_0215)
    assert "Patient/PATID1234: the EHR marks this patient deceased" in batch.warnings


def test_python_hl7_batch_file(profile):
    # Given python-hl7's FHS/BHS batch (CR endings, v2.5, one ADT^A04, MSH-7 without offset)
    batches = parse_hl7v2(BATCH_FILE.read_bytes(), profile)
    # Then one message maps, its time read in the practice's zone (New York, EST)
    (batch,) = batches
    (p,) = batch.patients
    assert (batch.message_id, batch.event, batch.version) == ("12334456778890", "ADT^A04", "2.5")
    assert (p.id, p.last_name, p.identifiers) == ("0000112234", "XXXXXXXXXX", ["100|0000112234"])
    assert p.source_version == "2007-01-01T16:29:51.000000Z"
    assert p.updated_at.utcoffset() == timedelta(hours=-5)


# ---- own messages --------------------------------------------------------------------------------


def test_v23_siu_in_practice_time_with_profile_names(profile):
    # Given a v2.3 SIU^S12: SCH-11 timing without offset (the day after DST starts in New York),
    # a cellular number in components 5-7, Spanish, and provider/location ids the practice uses
    (batch,) = parse_hl7v2(siu(), profile)
    (a,) = batch.appointments
    (p,) = batch.patients
    # Then local wall time is New York's (EDT, -04:00) and the practice's own names are used
    assert a.start == datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
    assert a.start.utcoffset() == timedelta(hours=-4)
    assert (a.id, a.patient_id, a.minutes, a.status) == ("A-100", "MRN-1", 45, "booked")
    assert (a.provider, a.location, a.visit_type) == ("Dr. Lee", "Main", "checkup")
    assert batch.practitioners == {"lee": "Dr. Lee"} and batch.locations == {"main": "Main"}
    assert (p.first_name, p.last_name, p.language) == ("Ana", "Rivera", "es")
    assert (p.phone, p.phone_kind) == ("+16175550101", "mobile")
    assert p.identifiers == ["MAPLE|MRN-1"]  # SSN dropped
    assert a.source_version == "2025-03-03T14:15:00.000000Z"  # MSH-7 at 09:15 EST
    assert batch.warnings == []


def test_provider_name_when_the_practice_does_not_know_the_id(profile):
    body = siu().replace("AIP|1||lee^Lee^Jane^^^Dr|DDS", "AIP|1||9941^Smith^Adam^^^Dr|DDS")
    (batch,) = parse_hl7v2(body, profile)
    assert batch.appointments[0].provider == "Dr Adam Smith"


def test_pv1_fallbacks_for_provider_and_location(profile):
    body = "\r".join([msh("SIU^S12"), sch(), pid(), "PV1|1|O|OPD^12^^MAPLE CLINIC||||0210^Attend^Aaron"])
    (a,) = parse_hl7v2(body, profile)[0].appointments
    assert (a.provider, a.location) == ("Aaron Attend", "MAPLE CLINIC, OPD, 12")


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_line_endings(sep, profile):
    # Given the same message with CR, LF or CRLF segment endings
    (batch,) = parse_hl7v2(siu(sep=sep).encode(), profile)
    # Then it means the same thing
    assert batch.appointments[0].start == datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
    assert batch.appointments[0].provider == "Dr. Lee"


def test_mllp_framing_is_ignored(profile):
    (batch,) = parse_hl7v2(b"\x0b" + siu().encode() + b"\x1c\r", profile)
    assert batch.appointments[0].id == "A-100"


def test_batch_of_two_messages_with_crlf(profile):
    # Given an FHS/BHS batch holding two messages, CRLF endings
    body = "\r\n".join([
        "FHS|^~\\&|PMS|MAPLE|||20250303091500", "BHS|^~\\&|PMS|MAPLE|||20250303091500",
        *siu().strip().split("\r"),
        msh("ADT^A08", control_id="CTRL-2"), pid(P3="MRN-2^^^MAPLE^MR", P5="Ng^Mai"),
        "BTS|2", "FTS|1",
    ])
    batches = parse_hl7v2(body, profile)
    # Then each message is its own batch
    assert [b.message_id for b in batches] == ["CTRL-1", "CTRL-2"]
    assert [b.event for b in batches] == ["SIU^S12", "ADT^A08"]
    assert batches[1].patients[0].first_name == "Mai"


def test_several_msh_without_batch_headers(profile):
    body = siu(control_id="M1") + siu("S15", control_id="M2")
    assert [b.appointments[0].status for b in parse_hl7v2(body, profile)] == ["booked", "cancelled"]


@pytest.mark.parametrize("trigger, sch25, status", [
    ("S13", "Booked", "booked"), ("S14", "", "booked"), ("S14", "Complete", "fulfilled"),
    ("S14", "Started", "arrived"), ("S12", "Pending", "pending"), ("S15", "", "cancelled"),
    ("S16", "", "cancelled"), ("S17", "Deleted", "cancelled"), ("S26", "", "noshow"),
])
def test_status_from_sch25_else_trigger(trigger, sch25, status, profile):
    (batch,) = parse_hl7v2(siu(trigger, sch_segment=sch(S25=sch25)), profile)
    assert batch.appointments[0].status == status and batch.warnings == []


def test_cancel_event_beats_a_stale_filler_status(profile):
    # Given an S15 (cancel) whose SCH-25 still says Booked
    (batch,) = parse_hl7v2(siu("S15"), profile)
    # Then the event wins, with a warning
    assert batch.appointments[0].status == "cancelled"
    assert batch.warnings == ["SCH-25: 'Booked' contradicts SIU^S15; read as cancelled"]


def test_unknown_filler_status_is_a_warning(profile):
    (batch,) = parse_hl7v2(siu(sch_segment=sch(S25="Tentative")), profile)
    assert batch.appointments[0].status == "booked"
    assert batch.warnings == ["SCH-25: unknown filler status 'Tentative'; read as booked"]


def test_cancel_without_timing_or_patient_is_a_cancellation_by_id(profile):
    body = siu("S15", sch_segment=sch(S11="", S9="", S10=""), pid_segment=None)
    (batch,) = parse_hl7v2(body, profile)
    assert batch.appointments == [] and batch.cancelled_appointment_ids == ["A-100"]


@pytest.mark.parametrize("overrides, extra, minutes", [
    ({"S11": "^^M20^20250310140000"}, (), 20),  # SCH-11.3 duration
    ({"S11": "^^^20250310140000", "S9": "2", "S10": "h"}, (), 120),  # SCH-9/10
    ({"S11": "^^^20250310140000", "S9": "90", "S10": "s"}, (), 2),  # seconds round up
    ({"S11": "", "S9": "", "S10": ""}, ("AIS|1||D1110^Cleaning|202503101400|||40|min",), 40),  # AIS-4, AIS-7/8
    ({"S11": "^^^20250310140000", "S9": "", "S10": ""}, (), 30),  # nothing: the default
])
def test_duration_sources(overrides, extra, minutes, profile):
    (batch,) = parse_hl7v2(siu(sch_segment=sch(**overrides), extra=extra), profile)
    assert batch.appointments[0].minutes == minutes
    assert batch.appointments[0].start == datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


def test_tq1_wins_over_sch11_in_v25(profile):
    # Given a 2.5.1 message carrying both SCH-11 and TQ1 timing (TQ1 with its own offset)
    body = siu(version="2.5.1", extra=("TQ1|||||||20250311083000-0500|20250311090000-0500",))
    # Then TQ1-7/8 decide start and length
    (a,) = parse_hl7v2(body, profile)[0].appointments
    assert a.start == datetime(2025, 3, 11, 13, 30, tzinfo=UTC) and a.minutes == 30


def test_a40_merge(profile):
    # Given an ADT^A40: MRN-OLD merged into MRN-NEW
    body = "\r".join([msh("ADT^A40^ADT_A39", version="2.5"), "EVN|A40|20250303091500",
                      pid(P3="MRN-NEW^^^MAPLE^MR"), "MRG|MRN-OLD^^^MAPLE^MR"])
    (batch,) = parse_hl7v2(body, profile)
    # Then the pair comes back, survivor first, with the survivor's record
    assert batch.merges == [("MRN-NEW", "MRN-OLD")]
    assert [p.id for p in batch.patients] == ["MRN-NEW"]


@pytest.mark.parametrize("trigger", ["A04", "A08", "A28", "A31"])
def test_adt_patient_events(trigger, profile):
    (batch,) = parse_hl7v2("\r".join([msh(f"ADT^{trigger}"), pid()]), profile)
    assert batch.patients[0].id == "MRN-1" and batch.event == f"ADT^{trigger}"


@pytest.mark.parametrize("pid13, pid14, expected", [
    ("^PRN^PH^^1^617^5550188~^PRN^CP^^1^617^5550101", "", ("+16175550101", "mobile")),
    ("^PRN^PH^^1^617^5550188", "", ("+16175550188", "landline")),
    ("(617)555-0111", "", ("+16175550111", "unknown")),
    ("", "(617)555-0177", ("+16175550177", "landline")),
    ("^PRN^PH^^1^617^5550188", "^WPN^CP^^1^617^5550166", ("+16175550166", "mobile")),
    ("^PRN^CP^^1^617^5550101^^^^^^20200101^20240101~^PRN^PH^^1^617^5550188", "", ("+16175550188", "landline")),
    ("^NET^Internet^ana@example.com~^PRN^FX^^1^617^5550199", "", (None, "unknown")),
    ("6175550123^^CP", "", ("+16175550123", "mobile")),
])
def test_phone_choice(pid13, pid14, expected, profile):
    # Given PID-13/14 repetitions (today is 2025-03-03)
    (batch,) = parse_hl7v2("\r".join([msh("ADT^A04"), pid(P13=pid13, P14=pid14)]), profile)
    # Then the SMS-capable number is chosen: cellular, then unknown, then landlines
    p = batch.patients[0]
    assert (p.phone, p.phone_kind) == expected


@pytest.mark.parametrize("pid15, language", [
    ("spa", "es"), ("es^Spanish^ISO639", "es"), ("^Español", "es"), ("eng^English", "en"),
    ("ara^^HL70296^spa^Spanish^ISO639", "es"), ("", "en"),
])
def test_language(pid15, language, profile):
    (batch,) = parse_hl7v2("\r".join([msh("ADT^A04"), pid(P15=pid15)]), profile)
    assert batch.patients[0].language == language


def test_escaped_text_is_unescaped(profile):
    (batch,) = parse_hl7v2("\r".join([msh("ADT^A04"), pid(P5="O\\T\\Brien^Ana")]), profile)
    assert batch.patients[0].last_name == "O&Brien"


# ---- hostile messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", "  \r\n ", b"\x0b\x1c\r"])
def test_empty_body(body, profile):
    assert issues_of(body, profile) == ["body is empty"]


def test_garbage_text(profile):
    issues = issues_of(b"hello world\nthis is not HL7\n", profile)
    assert issues == ["line 1: text that is not an HL7 segment where an MSH was expected",
                      "line 2: text that is not an HL7 segment where an MSH was expected"]


def test_json_sent_to_the_hl7_endpoint(profile):
    assert issues_of(b'{"resourceType": "Patient"}', profile) == [
        "line 1: text that is not an HL7 segment where an MSH was expected"
    ]


def test_segment_before_msh(profile):
    assert issues_of("PID|1||X\r" + siu(), profile) == ["line 1: segment PID where an MSH was expected"]


def test_oru_is_unsupported(profile):
    body = "\r".join([msh("ORU^R01"), pid(), "OBR|1", "OBX|1|NM|8867-4^Heart rate^LN||72"])
    assert issues_of(body, profile) == ["MSH-9: unsupported message type ORU^R01"]


@pytest.mark.parametrize("message_type", ["ADT^A01", "SIU^S99", "ACK^S12", "ZZZ^Z01"])
def test_other_events_are_unsupported(message_type, profile):
    assert issues_of("\r".join([msh(message_type), pid()]), profile) == [
        f"MSH-9: unsupported message type {message_type}"
    ]


def test_siu_without_sch(profile):
    assert issues_of("\r".join([msh("SIU^S12"), pid()]), profile) == [
        "SCH: missing (SIU^S12 needs a schedule activity segment)"
    ]


def test_siu_without_pid(profile):
    assert issues_of(siu(pid_segment=None), profile) == ["PID: missing (SIU^S12 needs the patient)"]


def test_adt_without_pid(profile):
    assert issues_of("\r".join([msh("ADT^A04"), "EVN|A04"]), profile) == ["PID: missing (ADT^A04 needs the patient)"]


def test_missing_patient_identifier(profile):
    assert issues_of("\r".join([msh("ADT^A04"), pid(P3="")]), profile) == ["PID-3: missing patient identifier"]


def test_a40_without_mrg(profile):
    assert issues_of("\r".join([msh("ADT^A40"), pid()]), profile) == [
        "MRG: missing (ADT^A40 needs the merged patient)"
    ]


@pytest.mark.parametrize("s11, issue", [
    ("^^^tomorrow", "SCH-11.4: not an HL7 date/time (YYYYMMDDHHMM[SS][+/-ZZZZ])"),
    ("^^^20250310", "SCH-11.4: has a date but no time of day"),
    ("^^^202513101400", "SCH-11.4: not a valid date/time"),
    ("^^^202503101400+2500", "SCH-11.4: not a valid date/time"),
    ("", "SCH-11: missing appointment start (TQ1-7, SCH-11.4 or AIS-4)"),
])
def test_bad_start(s11, issue, profile):
    assert issues_of(siu(sch_segment=sch(S11=s11)), profile) == [issue]


def test_missing_appointment_id(profile):
    assert issues_of(siu(sch_segment=sch(S1="", S2="")), profile) == [
        "SCH-1: missing appointment id (neither SCH-1 placer nor SCH-2 filler id)"
    ]


def test_unsupported_version_and_missing_control_id(profile):
    body = "\r".join(["MSH|^~\\&|PMS|MAPLE|||20250303091500||ADT^A04||P|2.2", pid()])
    assert issues_of(body, profile) == [
        "MSH-10: missing message control id",
        "MSH-12: unsupported HL7 version '2.2' (2.3 to 2.8 are)",
    ]


def test_problem_in_second_message_names_it(profile):
    body = siu(control_id="M1") + "\r".join([msh("ADT^A04", control_id="M2"), pid(P3="")])
    assert issues_of(body, profile) == ["message 2: PID-3: missing patient identifier"]


def test_no_personal_data_in_problems(profile):
    body = "\r".join([msh("ADT^A04"), pid(P3="", P5="Zyxwvut^Qwerty", P13="(617)555-0142")])
    text = " ".join(issues_of(body, profile))
    assert "Zyxwvut" not in text and "Qwerty" not in text and "0142" not in text


# ---- ACKs ---------------------------------------------------------------------------------------------


def test_ack_accept_swaps_the_header(profile):
    # Given the S12 sample's header
    header = read_header((SAMPLES / "SIU-S12-01.hl7").read_bytes())
    # When Careloop accepts it
    ack = build_ack(header.control_id, "AA", "", profile, version=header.version, reply_to=header)
    # Then the ACK goes back from receiver to sender, in the sender's version
    msg = hl7.parse(ack)
    assert ack.endswith("\r") and ack.count("\r") == 2
    assert str(msg.segment("MSH")[3]) == "EHRApp^1.Aux^ISO"
    assert str(msg.segment("MSH")[5]) == "SCHApp"
    assert str(msg.segment("MSH")[6]) == "GHHSFacility^2.16.840.1.122848.1.30^ISO"
    assert msg.extract_field("MSH", 1, 7) == "20250303150000+0000"
    assert str(msg.segment("MSH")[9]) == "ACK^S12^ACK" and msg.extract_field("MSH", 1, 12) == "2.8"
    assert msg.extract_field("MSH", 1, 10) == "ACKMSG00012"
    assert str(msg.segment("MSA")) == "MSA|AA|MSG00012|"


def test_ack_error_escapes_text_and_adds_err(profile):
    header = read_header((SAMPLES / "SIU-S12-01.hl7").read_bytes())
    ack = build_ack("MSG00012", "AE", "PID-3: missing | bad ^ & ~ \\ text", profile,
                    version="2.8", reply_to=header)
    segments = ack.strip("\r").split("\r")
    assert segments[1] == "MSA|AE|MSG00012|PID-3: missing \\F\\ bad \\S\\ \\T\\ \\R\\ \\E\\ text"
    assert segments[2] == ("ERR|||207^Application internal error^HL70357|E||||"
                           "PID-3: missing \\F\\ bad \\S\\ \\T\\ \\R\\ \\E\\ text")
    assert hl7.parse(ack).segment("ERR")  # still a parseable message


def test_ack_reject_v23_uses_the_old_err(profile):
    header = read_header((SAMPLES / "ADT04-251.hl7").read_bytes())
    ack = build_ack(header.control_id, "AR", "MSH-9: unsupported message type", profile,
                    version=header.version, reply_to=header, error_code="200")
    segments = ack.strip("\r").split("\r")
    assert segments[0].split("|")[8] == "ACK^A04"  # no message structure before 2.3.1
    assert segments[0].split("|")[2:6] == ["CARELOOP", "demo", "REDOX", "RDX"]  # MSH-5/6 were empty
    assert segments[0].split("|")[10] == "T"  # processing id echoed
    assert segments[2] == "ERR|^^^200&Unsupported message type&HL70357"


def test_ack_for_garbage_still_answers(profile):
    ack = ack_for(b"not hl7 at all", "AR", "line 1: text that is not an HL7 segment", profile)
    fields = ack.split("\r")[0].split("|")
    assert fields[2:4] == ["CARELOOP", "demo"] and fields[8] == "ACK"
    assert ack.split("\r")[1] == "MSA|AR||line 1: text that is not an HL7 segment"


def test_ack_for_a_batch_answers_every_message(profile):
    body = siu(control_id="M1") + siu("S15", control_id="M2")
    acks = ack_for(body, "AA", "", profile)
    assert acks.count("MSH|") == 2
    assert [s for s in acks.split("\r") if s.startswith("MSA")] == ["MSA|AA|M1|", "MSA|AA|M2|"]


def test_ack_ids_are_deterministic_and_short(profile):
    long_id = "X" * 40
    first = build_ack(long_id, "AA", "", profile).split("\r")[0].split("|")[9]
    again = build_ack(long_id, "AA", "", profile).split("\r")[0].split("|")[9]
    assert first == again and len(first) <= 20


def test_ack_rejects_unknown_codes(profile):
    with pytest.raises(ValueError):
        build_ack("1", "OK", "", profile)


def test_read_header_of_nothing():
    assert read_header(b"garbage") is None


# ---- anything at all: a PayloadError or batches, never a crash ---------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FIELD = st.text(alphabet="|^~\\&AZaz09+-. ", max_size=14)
_SEGMENT = st.builds(lambda name, fields: "|".join([name, *fields]),
                     st.sampled_from(["MSH", "PID", "SCH", "TQ1", "AIS", "AIP", "AIL", "PV1", "MRG",
                                      "FHS", "BHS", "BTS", "FTS", "EVN", "NTE", "ZZ1", "pid", "X"]),
                     st.lists(_FIELD, max_size=30))


@settings(max_examples=int(os.environ.get("CARELOOP_FUZZ_EXAMPLES", "300")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(head=st.sampled_from(["", msh("SIU^S12"), msh("ADT^A04", version="2.5"), msh("ADT^A40")]),
       segments=st.lists(_SEGMENT, max_size=8), sep=st.sampled_from(["\r", "\n", "\r\n"]))
def test_arbitrary_text_never_crashes(head, segments, sep):
    body = sep.join([head, *segments] if head else segments)
    profile = demo_profile()
    try:
        assert isinstance(parse_hl7v2(body, profile), list)
    except PayloadError as exc:
        assert exc.issues and all(isinstance(i, str) and i for i in exc.issues)
    assert "MSA|" in ack_for(body, "AE", "x", profile)


def test_birth_date_from_pid_7_agrees_with_the_fhir_converter(profile):
    # Given the SIU sample whose PID-7 is 198808181126+0215 (a time and an offset after the date)
    (batch,) = parse_hl7v2((SAMPLES / "SIU-S12-01.hl7").read_bytes(), profile)
    expected = resource(json.loads((CONVERTED / "SIU-S12-01-expected.json").read_text()), "Patient")
    # Then the birthday is the calendar date as written, as the converter maps it
    assert batch.patients[0].birth_date.isoformat() == expected["birthDate"] == "1988-08-18"


@pytest.mark.parametrize("pid7, expected, warned", [
    ("19610615", "1961-06-15", False), ("1961", None, False), ("196106", None, False), ("", None, False),
    ("June 1961", None, True), ("19611345", None, True),
])
def test_pid_7_forms(pid7, expected, warned, profile):
    raw = (SAMPLES / "SIU-S12-01.hl7").read_bytes().replace(b"|198808181126+0215|", f"|{pid7}|".encode())
    (batch,) = parse_hl7v2(raw, profile)
    p = batch.patients[0]
    assert (p.birth_date.isoformat() if p.birth_date else None) == expected
    assert any("PID-7" in w for w in batch.warnings) is warned
    assert pid7 == "" or pid7 not in " ".join(batch.warnings)


def test_an_ehr_update_without_a_birth_date_keeps_the_stored_one():
    from datetime import date

    from careloop.models import Patient
    from careloop.records import merge_patient

    stored = Patient(id="p", first_name="Ana", birth_date=date(1990, 5, 2))
    assert merge_patient(stored, Patient(id="p", first_name="Ana")).birth_date == date(1990, 5, 2)
    assert merge_patient(stored, Patient(id="p", birth_date=date(1990, 5, 3))).birth_date == date(1990, 5, 3)
