"""Handles one inbound text: dedupe, match the patient and conversation, classify, act, reply,
and hand to the staff inbox (routed to the right team, with a notification) what needs a person.

Replies are direct answers (not automated messages): they skip quiet hours and caps, but never
go to a number that opted out, except the one opt-out confirmation (the sender enforces it).
Urgent texts get the safety reply at any hour and an urgent alert.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from careloop import consent, templates
from careloop.agent.classifier import CONFIDENCE_THRESHOLD, Prediction
from careloop.agent.classifier import classify_reply as classify
from careloop.agent.knowledge import STRONG as KNOWLEDGE_STRONG
from careloop.agent.knowledge import Match, index_for
from careloop.agent.replies import render_reply, when_staff_answer
from careloop.agent.when import When, parse_when
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import LLM_URGENT_REASON, Services
from careloop.records import with_change
from careloop.sms.keywords import bare_word, keyword_kind

if TYPE_CHECKING:
    from careloop.booking.offers import SlotOffer

ACTIVE = UPCOMING_STATUSES  # the conversation is about a visit still to come
# who picks it up, and the inbox reason
ROUTES = {
    "urgent": ("clinical", "urgent"), "refill": ("clinical", "normal"), "results": ("clinical", "normal"),
    "billing": ("billing", "normal"), "insurance": ("front_desk", "normal"), "cancel": ("front_desk", "normal"),
    "reschedule": ("front_desk", "normal"), "running_late": ("front_desk", "normal"), "human": ("front_desk", "normal"),
    "other": ("front_desk", "normal"), "hours": ("front_desk", "normal"), "location": ("front_desk", "normal"),
    "book": ("front_desk", "normal"), "confirm": ("front_desk", "normal"),
}
# the replies that carry a booking link, and what the patient's link is for
_LINK_PURPOSE: dict[str, Literal["book", "rebook", "reschedule"]] = {
    "book": "book", "reschedule": "reschedule", "cancel": "rebook",
    "slot_offer": "reschedule", "slot_taken": "reschedule", "slot_taken_none": "reschedule"}
CONSENT_EVENTS = {"opt_out": "patient_opted_out", "opt_in": "patient_opted_in"}
# entries of the short `faq` form keep the replies they always had
FACT_REPLIES = {"hours": "fact_hours", "location": "fact_location", "parking": "fact_parking", "insurance": "fact_insurance"}


@dataclass
class InboundOutcome:
    message_id: str
    duplicate: bool = False
    patient_id: str | None = None
    intent: str | None = None
    replies: list[Message] = field(default_factory=list)
    needs_attention: bool = False
    reason: str | None = None
    alert: Message | None = None


REPEAT_WINDOW = timedelta(minutes=1)  # an identical text within this of the answered one: one answer
REPEAT_REASON = "the same text again within a minute: answered once"
STAFF_YIELD_REASON = "patient replied while staff are in the conversation"
HAND_BACK_STEP = "hand_back"  # the staff task that hands a conversation back to the agent


def is_staff_reply(m: Message) -> bool:
    """A text a person at the practice wrote (careloop.inbox.staff_reply), not the agent's own
    answer (workflow "sms-agent") nor an automated workflow text."""
    return m.kind == "sms_out" and m.workflow == "staff" and not m.automated


def is_hand_back(m: Message) -> bool:
    return m.kind == "task" and m.workflow == "staff" and m.step == HAND_BACK_STEP


def staff_in_conversation(services: Services, patient_id: str | None, phone: str, now: datetime) -> Message | None:
    """The last staff reply of this conversation (the patient's thread, or the unknown number's)
    if it is within the practice's `agent.staff_window_hours` and no hand-back came after it."""
    hours = services.practice.agent.staff_window_hours
    if hours <= 0:
        return None
    since = now - timedelta(hours=hours)
    if patient_id is not None:
        msgs = [m for m in services.messages.messages_for_patient(patient_id) if m.at >= since]
    else:  # an unknown number's conversation: only its recent part is read
        msgs = services.inbox.conversations_since(since).get(f"phone:{phone}", [])
    last: Message | None = None
    for m in sorted(msgs, key=lambda m: (m.at, is_hand_back(m))):  # a hand-back ends the reply it follows
        if is_staff_reply(m) and m.at <= now:
            last = m
        elif is_hand_back(m) and last is not None and m.at >= last.at:
            last = None
    return last


def _id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def asked_for(when: When) -> str:
    """A staff-readable line of the time a patient asked for: "Tue Dec 08-Sun Dec 13, morning"."""
    if when.later:
        return "later"
    days = f"{when.first_day:%a %b %d}" + (f"-{when.last_day:%a %b %d}" if when.last_day != when.first_day else "")
    at = f"{'after ' if when.after_time else ''}{when.time:%H:%M}" if when.time else when.part_of_day
    return days + (f", {at}" if at else "")


def _conversation_patient(services: Services, patients: list[Patient]) -> tuple[Patient | None, Message | None]:
    """The patient (of those sharing this phone) the last outbound text was about."""
    if not patients:
        return None, None
    latest: tuple[Patient | None, Message | None] = (None, None)
    for p in patients:
        for m in services.messages.messages_for_patient(p.id):
            if m.kind == "sms_out" and (latest[1] is None or m.at > latest[1].at):
                latest = (p, m)
    if latest[0] is not None:
        return latest
    return (patients[0], None) if len(patients) == 1 else (None, None)


def _target_appointment(services: Services, patient: Patient | None, last: Message | None,
                        now: datetime) -> Appointment | None:
    """The appointment the conversation is about, else the patient's next one (none for a number
    that matches no patient)."""
    if patient is None:
        return None
    if last is not None and last.appointment_id:
        appt = services.records.get_appointment(last.appointment_id)
        if appt and appt.status in ACTIVE and appt.start > now:
            return appt
    upcoming = [a for a in services.records.appointments_for_patient(patient.id) if a.status in ACTIVE and a.start > now]
    return min(upcoming, key=lambda a: a.start) if upcoming else None


# How long an urgent text colours what the same number writes next.
URGENT_CONVERSATION = timedelta(hours=12)
FOLLOWS_URGENT = "follows an urgent text"


def _urgent_kind(p: Prediction) -> str | None:
    """The emergency a prediction names: urgent, or flagged by the LLM tier."""
    if p.intent == "urgent" or p.reason == LLM_URGENT_REASON:
        return p.urgent_kind or "medical"
    return None


def _last_urgent(services: Services, phone: str, patients: list[Patient], now: datetime) -> Message | None:
    """The number's latest urgent inbound text within URGENT_CONVERSATION."""
    since = now - URGENT_CONVERSATION
    if patients:
        texts = [m for p in patients for m in services.messages.messages_for_patient(p.id)
                 if m.kind == "sms_in" and m.phone == phone]
    else:
        texts = [m for m in services.messages.messages_of_kind("sms_in", since=since) if m.phone == phone]
    urgent = [m for m in texts if m.urgent_kind and since <= m.at <= now]
    return max(urgent, key=lambda m: m.at) if urgent else None


def _in_urgent_conversation(services: Services, phone: str, patients: list[Patient], body: str,
                            p: Prediction, now: datetime) -> Prediction:
    """A text read after an urgent one from the same number, within URGENT_CONVERSATION.

    Alone, "its getting worse" or "sigue sangrando" names no emergency; after "my chest hurts" it
    is the same one, so it is urgent again (a new page: it is worse). And a follow-up the urgent
    model only doubted, with no warning sign of its own, keeps the conversation's kind: the model
    reads "It is getting worse" as possibly self-harm, and a chest-pain patient should get the 911
    reply, a self-harm one the 988 reply. A warning sign in the text itself keeps its own kind."""
    own = _urgent_kind(p)
    if own is not None and not p.reason.startswith(("urgent model", LLM_URGENT_REASON)):
        return p
    from careloop.agent import safety

    worse = own is None and safety.worsening(safety.canonical(body))
    if own is None and not worse:
        return p
    earlier = _last_urgent(services, phone, patients, now)
    if earlier is None:
        return p
    kind = earlier.urgent_kind
    if kind is None:  # _last_urgent keeps only texts with a kind; this is for the type checker
        return p
    if own is not None:
        return replace(p, urgent_kind=kind)
    # (a STOP in it is still honoured: _honour_stop_beside_urgent reads the local reading)
    at = earlier.at.astimezone(services.practice.zone)  # the staff's clock
    return replace(p, intent="urgent", confidence=max(p.confidence, 0.9), escalate=True, urgent_kind=kind,
                   reason=f"{FOLLOWS_URGENT} ({kind.replace('_', '-')}, at {at:%H:%M}) and says it is worse or goes on")


class _Turn:
    """One inbound text being handled: what to reply, whether staff must look, and why."""

    def __init__(self, services: Services, from_phone: str, body: str, message_id: str, now: datetime,
                 carrier_at: str = "") -> None:
        self.s, self.phone, self.body, self.message_id, self.now = services, from_phone, body, message_id, now
        self.carrier_at = carrier_at
        self.patients = services.records.patients_by_phone(from_phone)
        self.patient, self.last_out = _conversation_patient(services, self.patients)
        # stages 1-3: safety, consent, model (careloop.agent.classifier), on one reading of the text
        self.prediction: Prediction = classify(body)  # classify_reply: remembered by text, replies repeat
        self.local_prediction = self.prediction  # before the LLM tier: an opt-out it read stays honoured
        # stage 4, the optional LLM tier: a label for a text the classifier is unsure about, else a
        # safety screen of every text the local layers did not call urgent (urgent from either side
        # wins). Never text for the patient: the replies below stay the agent's.
        if services.llm is not None and services.practice.agent.llm_enabled:
            from careloop.agent.llm import needs_second_opinion  # lazy: off by default

            names = [n for p in self.patients for n in (p.first_name, p.last_name) if n]
            ids = [i for p in self.patients for i in (p.id, *(x.split("|")[-1] for x in p.identifiers)) if i]
            if needs_second_opinion(self.prediction, body):
                self.prediction = services.llm.label(body, self.prediction, names=names, ids=ids, ref=message_id)
            elif self.prediction.intent != "urgent" and services.practice.agent.llm_screen:
                self.prediction = services.llm.screen(body, self.prediction, names=names, ids=ids, ref=message_id)
        self.prediction = _in_urgent_conversation(services, from_phone, self.patients, body, self.prediction, now)
        self.language = self.patient.language if self.patient else self.prediction.language
        self.appt: Appointment | None = None
        self.reply_key: str | None = None
        self.fact: str | None = None
        self.escalate_reason: str | None = None
        self.reply_id = ""  # the id the reply goes out under (handle_inbound sets it): an offer names it
        self.reply_fields: dict[str, str] = {}  # what a reply's own placeholders read (an offer's times)

    def context(self) -> dict[str, str]:
        patient = self.patient or Patient(id="?", language=self.language)
        ctx = templates.context_for(self.s.practice, patient, self.appt)
        ctx["first_name"] = ctx["first_name"] or ""  # none: render_reply says it without a name
        ctx["when"] = when_staff_answer(self.s.practice, self.now, self.language)
        ctx["fact"] = self.fact or ""
        ctx.update(self.reply_fields)
        if self.patient is not None and self.reply_key in _LINK_PURPOSE:
            from careloop.booking.links import booking_url_for

            # the patient's own link, minted once per inbound text (a redelivery sends the same one)
            ctx["booking_url"] = booking_url_for(
                self.s, self.patient, _LINK_PURPOSE[self.reply_key], ref=f"agent:{self.message_id}",
                appointment_id=self.appt.id if self.appt else None)
        return ctx

    @property
    def offers_booking(self) -> bool:
        """A link to send: the patient's own (self-scheduling on) or the profile's fixed one."""
        s = self.s
        own = self.patient is not None and s.booking is not None and s.practice.booking is not None \
            and bool(s.booking_base_url)
        return own or bool(s.practice.booking_url)

    def escalate(self, reason: str, reply_key: str | None = "handoff") -> None:
        self.escalate_reason = reason
        if reply_key is not None:
            self.reply_key = reply_key

    # intents -------------------------------------------------------------------------------
    def run(self) -> None:
        intent = self.prediction.intent
        if getattr(self.prediction, "reason", "") == LLM_URGENT_REASON:  # LLM tier: possible urgency the rules missed
            # the canned safety reply (988 too for self-harm); an urgent alert to the clinical team
            self.reply_key = "urgent_self_harm" if self.prediction.urgent_kind == "self_harm" else "urgent"
            self.escalate_reason = LLM_URGENT_REASON
            return self._honour_stop_beside_urgent()
        if intent == "urgent":  # first, whoever it is, at any hour
            self.reply_key = "urgent_self_harm" if getattr(self.prediction, "urgent_kind", None) == "self_harm" else "urgent"
            self.escalate_reason = "urgent: " + (getattr(self.prediction, "reason", "") or "symptoms or safety")
            if self.patient:
                self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
            return self._honour_stop_beside_urgent()
        if intent == "opt_out" and self._leaves_waitlist_only():
            return None
        if intent in ("opt_out", "opt_in"):
            return self.consent(intent)
        if intent == "help":
            self.reply_key = "help"
            return
        if self._yields_to_staff():  # a person is talking with them: the rest is theirs
            return None
        if self.patient is None:
            reason = "number shared by several patients: which one?" if self.patients else "text from an unknown number"
            return self.escalate(reason)
        if self._answers_gap_offer():  # first: it answers only its own last text, or waitlist words
            return None
        if self._answers_slot_offer():
            return None
        if self.prediction.confidence < CONFIDENCE_THRESHOLD:
            # unsure of the label, but a question one knowledge entry answers strongly is answered
            match = index_for(self.s.practice).best(self.body, "other") if intent in ("other", "book") else None
            if match is not None and match.score >= KNOWLEDGE_STRONG and self._answer("other", match):
                return None
            return self.escalate("the agent was not sure what this text is about")
        getattr(self, f"on_{intent}", self.on_other)()

    def _yields_to_staff(self) -> bool:
        """While staff are in the conversation (a staff reply within the practice's window, not
        handed back since), the agent stays out of it: no reply, no booking, no confirmation (a
        YES may answer a time staff offered); the text goes to the thread for that person."""
        staff = staff_in_conversation(self.s, self.patient.id if self.patient else None, self.phone, self.now)
        if staff is None:
            return False
        self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
        who = (staff.reason or "").removeprefix("sent by ").strip()
        self.escalate(STAFF_YIELD_REASON + (f" ({who})" if who else ""), reply_key=None)
        return True

    def _answers_gap_offer(self) -> bool:
        """Filling gaps (careloop.booking.gaps), read before the intents: an answer to the gap offer
        this patient's last text made (YES books it, where the classifier would say `confirm`; NO
        keeps them waiting, not `cancel`), or asking to join or leave the waitlist."""
        booking, patient = self.s.booking, self.patient
        if booking is None or self.s.practice.booking is None or patient is None:
            return False
        from careloop.booking import gaps

        answer = gaps.answer_offer(self.s, patient, self.last_out, self.body, self.now)
        if answer is not None:
            self.reply_key = answer.reply_key
            return True
        ask = gaps.waitlist_request(self.body)
        if ask == "join":
            gaps.join(booking, patient.id, self.now)
            self.reply_key = "waitlist_join"
        elif ask == "leave":
            gaps.leave(booking, patient.id)
            self.reply_key = "waitlist_leave"
        return ask is not None

    def _leaves_waitlist_only(self) -> bool:
        """"Take me off the waitlist" is free text the classifier reads as an opt-out: it asks to
        leave the waitlist, not to stop every text (reminders included), so it does only that and
        the reply says how to stop all texts. A carrier keyword (STOP) always opts out."""
        if keyword_kind(self.body) is not None or self.patient is None:
            return False
        from careloop.booking import gaps

        if gaps.asks_to_stop_texts(self.body):
            return False  # "stop texting me and take me off the waitlist": an opt-out, honoured
        return gaps.waitlist_request(self.body) == "leave" and self._answers_gap_offer()

    def _honour_stop_beside_urgent(self) -> None:
        """"STOP. I can't breathe": the safety reply goes out and the request to stop texts is
        recorded too, whether the classifier saw both or the LLM tier found the urgency."""
        local = self.local_prediction
        if local.intent == "opt_out" or (getattr(local, "details", None) or {}).get("also_opt_out"):
            self.record_consent("opt_out")

    def consent(self, intent: str) -> None:
        self.reply_key = intent if self.record_consent(intent) else None

    def record_consent(self, intent: str) -> bool:
        """The patient's consent change, proved by this text and told to the EHR; False when it
        changes nothing (already opted out)."""
        words = bare_word(self.body) if keyword_kind(self.body) else f"free text read as {intent}"
        changed = consent.record(self.s.consent, self.s.records, consent.ConsentEntry(
            phone=self.phone, action=intent, at=self.now, source="sms", words=words[:60],
            text=self.body[:1600], message_id=self.message_id, arrival=self.carrier_at))
        if changed and intent == "opt_in" and self.s.sms is not None:
            self.s.sms.opt_in(self.phone)  # off the carrier list first, or the reply is refused
        if changed:
            for p in self.patients:
                self.tell_ehr(CONSENT_EVENTS[intent], p.id)
        return changed

    def tell_ehr(self, kind: str, patient_id: str, appointment_id: str | None = None) -> None:
        from careloop.ehr import writeback

        writeback.record(self.s.practice, self.s.writeback, writeback.WritebackEvent(
            kind=kind, patient_id=patient_id, appointment_id=appointment_id, at=self.now))

    def on_confirm(self) -> None:
        self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
        if self.appt is None:
            return self.escalate("says they will come, but has no upcoming appointment")
        if not self.appt.confirmed:
            self.s.records.put_appointment(with_change(self.appt.model_copy(
                update={"confirmed": True, "confirmed_at": self.now}), "confirmed", self.now, "patient", "text"))
            self.tell_ehr("appointment_confirmed", self.appt.patient_id, self.appt.id)
        self.reply_key = "confirm"

    def on_cancel(self) -> None:
        self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
        if self.appt is not None and not self.appt.declined:
            # Careloop owns the patient's answer; the EHR owns the status (staff cancel there,
            # or the EHR takes the write-back's AppointmentResponse)
            self.s.records.put_appointment(with_change(self.appt.model_copy(
                update={"confirmed": False, "declined": True}), "declined", self.now, "patient", "text",
                "asked to cancel"))
            self.tell_ehr("appointment_cancelled", self.appt.patient_id, self.appt.id)
        self.escalate("wants to cancel" + (f" {self.appt.start.astimezone(self.s.practice.zone):%a %b %d %H:%M}" if self.appt else ""),
                      "cancel" if self.offers_booking else "handoff")

    def on_reschedule(self) -> None:
        self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
        # what they asked for, so the front desk need not open the thread to see it
        asked = parse_when(self.body, self.now.astimezone(self.s.practice.zone).date(), self.language)
        if self.appt is not None and self._offer_slots(asked):
            return
        self.escalate("wants to reschedule" + (f" ({asked_for(asked)})" if asked else ""),
                      "reschedule" if self.offers_booking else "handoff")

    # rescheduling by text (careloop.booking.offers) ----------------------------------------
    def _offer_slots(self, asked: When | None, taken: SlotOffer | None = None) -> bool:
        """Self-scheduling on: open times of the appointment's type near what the patient `asked`
        for (after `taken` lost its time: near that offer's days), stored as an offer and listed in
        the reply; none near: the patient's link and a staff note. -> False when self-scheduling is off."""
        from careloop.booking import offers, service

        s, patient, appt = self.s, self.patient, self.appt
        if patient is None or appt is None or s.booking is None or s.practice.booking is None \
                or not s.booking_base_url:
            return False
        kind = s.practice.booking.type(taken.type) if taken else service.type_for_visit(s, patient, appt.visit_type)
        if kind is None:
            return False
        when = offers.offered_days(s, taken) if taken else asked
        after = appt.start if when is not None and when.later else None
        near = service.slots_near(s, patient, kind, when, after=after, limit=offers.OFFERED + 1, ignore=appt.id)
        found = [x for x in near if x.start != appt.start][:offers.OFFERED]  # not the time being moved
        if not found:
            self.escalate("wants to reschedule; no open time near " + (asked_for(when) if when else "now"),
                          "slot_taken_none" if taken else "reschedule")
            return True
        offer = offers.new_offer(_id("o-", self.message_id), patient.id, kind.id, found, moves=appt.id,
                                 message_id=self.reply_id, now=self.now, after_taken=taken is not None)
        if not s.booking.put_offer(offer):  # a redelivered text: list what it offered the first time
            stored = s.booking.latest_offer(patient.id)
            offer = stored if stored is not None and stored.offer_id == offer.offer_id else offer
        self._list_offer(offer)
        return True

    def _list_offer(self, offer: SlotOffer) -> None:
        from careloop.booking import offers

        options, zone = offers.options_text(self.s, offer.slots, self.language)
        self.reply_fields = {"options": options, "zone": f" ({zone})" if zone else "",
                             "choices": offers.choices_text(len(offer.slots), self.language)}
        self.reply_key = "slot_taken" if offer.after_taken else "slot_offer"

    def _answers_slot_offer(self) -> bool:
        """A reply to the times this patient was offered: a plain pick ("2", "the second one", "la
        primera") books it through the one booking path (moving the appointment; its confirmation
        text is the answer), a time taken meanwhile gets the next open ones as a new offer, and a
        reply that is neither a pick nor another clear request goes to staff. -> whether it was one."""
        from careloop.booking import offers, service
        from careloop.errors import BookingError, SlotTaken

        s, patient = self.s, self.patient
        if patient is None or s.booking is None or s.practice.booking is None:
            return False
        offer = s.booking.latest_offer(patient.id)
        if offer is None:
            return False
        if offer.offer_id == _id("o-", self.message_id):  # this very text made it: a redelivery
            self.appt = _target_appointment(s, patient, self.last_out, self.now)
            self._list_offer(offer)
            return True
        picked_here = offer.closed_by == self.message_id  # a redelivery of the pick: finish it
        if not picked_here and not offer.is_open(self.now):
            return False
        choice = offer.choice if picked_here else offers.choice_in(self.body, len(offer.slots))
        if choice is None:
            if self._clear_other_request():
                return False
            if parse_when(self.body, self.now.astimezone(s.practice.zone).date(), self.language) is not None:
                self.on_reschedule()  # "2pm works?": none of those, but another time: offer near it
                return True
            self.appt = _target_appointment(s, patient, self.last_out, self.now)
            self.escalate("replied to the offered times, but not with one of them")
            return True
        if not picked_here and not s.booking.close_offer(offer, self.message_id, choice, self.now):
            return False  # another reply picked first: this one is read like any text
        self.appt = _target_appointment(s, patient, self.last_out, self.now)
        kind = s.practice.booking.type(offer.type)
        if kind is None:
            self.escalate("picked an offered time of a type that is no longer bookable")
            return True
        try:
            booked = service.book_for_patient(s, patient, kind, offer.slots[choice - 1].slot(), moves=offer.moves,
                                              ref=f"offer:{offer.offer_id}")
        except SlotTaken:
            moved = s.records.get_appointment(offer.moves) if offer.moves else None
            self.appt = moved if moved is not None and moved.status in ACTIVE else self.appt
            if not self._offer_slots(None, taken=offer):
                self.escalate("picked an offered time that was just taken")
            return True
        except BookingError as exc:
            self.escalate(f"picked an offered time that could not be booked: {exc}")
            return True
        self.appt = booked.appointment  # no reply of its own: the booking's confirmation says it
        return True

    def _clear_other_request(self) -> bool:
        """Not a pick, but plainly something else (a question, a confirm, a new time): read as usual."""
        p = self.prediction
        if p.confidence >= CONFIDENCE_THRESHOLD and p.intent != "other":
            return True
        match = index_for(self.s.practice).best(self.body, "other")
        return match is not None and match.score >= KNOWLEDGE_STRONG

    def on_book(self) -> None:
        if self.offers_booking:
            self.reply_key = "book"
        else:
            self.escalate("wants to book an appointment")

    def on_running_late(self) -> None:
        self.appt = _target_appointment(self.s, self.patient, self.last_out, self.now)
        self.escalate("running late", "running_late")

    def _answer(self, intent: str, match: Match | None = None) -> bool:
        """Answer from the practice's knowledge (careloop.agent.knowledge): one entry must match
        (`match` when the caller already looked), in the patient's language; otherwise a person
        answers and nothing is invented."""
        match = match or index_for(self.s.practice).best(self.body, intent)
        if match is None:
            self.escalate(f"asks about {intent}; the practice profile has no answer")
            return False
        entry = match.entry
        text = entry.answer.get("es" if self.language == "es" else "en")
        if not text:
            self.escalate(f"asks about {entry.topic}; the profile has no {'Spanish' if self.language == 'es' else 'English'} answer")
            return False
        if entry.id.startswith("faq-") and entry.topic in FACT_REPLIES:  # the short faq form keeps its phrasing
            self.fact, self.reply_key = text.rstrip(". "), FACT_REPLIES[entry.topic]
        else:
            self.fact, self.reply_key = text, "knowledge"
        return True

    def on_hours(self) -> None:
        self._answer("hours")

    def on_location(self) -> None:
        self._answer("location")

    def on_insurance(self) -> None:
        self._answer("insurance")  # plans answered; coverage details stay with a person who is asked

    def on_billing(self) -> None:
        self.escalate("billing question", "billing")

    def on_refill(self) -> None:
        self.escalate("prescription refill request", "refill")

    def on_results(self) -> None:
        self.escalate("asks about results", "results")

    def on_human(self) -> None:
        self.escalate("wants a person or a call back")

    def on_thanks(self) -> None:
        pass

    def on_other(self) -> None:
        # a question the practice's knowledge answers (services, new patients, what to bring...)
        match = index_for(self.s.practice).best(self.body, "other")
        if match is None or not self._answer("other", match):
            self.escalate("needs a person")


def handle_inbound(
    services: Services, from_phone: str, body: str, inbound_id: str, at: datetime | None = None,
    carrier_at: str = "",
) -> InboundOutcome:
    """Handle one inbound text, exactly once in effect: the stored inbound message is the claim,
    but it counts as handled only once every effect happened (reply queued, alert notified). A
    redelivery after a crash in between finishes what was left, and nothing happens twice: the
    reply and the alert have keys of their own, the sender sends a queued reply once, and the
    consent ledger records one proof row per inbound message."""
    message_id = _id("in-", inbound_id)
    existing = services.messages.get_message(message_id)
    if existing is not None and existing.effects_done:
        return InboundOutcome(message_id, duplicate=True)
    now = existing.at if existing is not None else (at or services.clock.now())  # resume as it began
    if existing is None:
        first = _repeat_of(services, from_phone, body, message_id, _arrival(carrier_at) or now)
        if first is not None:
            return _record_repeat(services, first, from_phone, body, message_id, now)

    turn = _Turn(services, from_phone, body, message_id, now, carrier_at)
    turn.reply_id = _id("r-", inbound_id)
    turn.run()
    p = turn.prediction
    outcome = InboundOutcome(message_id, patient_id=turn.patient.id if turn.patient else None, intent=p.intent,
                             needs_attention=turn.escalate_reason is not None, reason=turn.escalate_reason)
    appointment_id = turn.appt.id if turn.appt else (turn.last_out.appointment_id if turn.last_out else None)
    if existing is None:
        inbound = Message(
            message_id=message_id, kind="sms_in", patient_id=outcome.patient_id, appointment_id=appointment_id,
            phone=from_phone, body=body, at=now, status=MessageStatus.RECEIVED, automated=False,
            intent=p.intent, needs_attention=outcome.needs_attention, reason=outcome.reason,
            urgent_kind=_urgent_kind(p),
        )
        if not services.messages.put_message(inbound):  # another consumer has it: it finishes it
            return InboundOutcome(message_id, duplicate=True)

    if turn.reply_key:
        text = render_reply(turn.reply_key, turn.language, turn.context())
        reply = Message(
            message_id=_id("r-", inbound_id), kind="sms_out", patient_id=outcome.patient_id,
            appointment_id=appointment_id, phone=from_phone, body=" ".join(text.split()),
            at=now, status=MessageStatus.QUEUED, workflow="sms-agent", step=p.intent, automated=False,
        )
        if not services.messages.put_message(reply):
            reply = services.messages.get_message(reply.message_id) or reply
        if reply.status == MessageStatus.QUEUED:
            # queued again after a crash is harmless: the sender moves it queued -> sending once
            services.outbox.enqueue(reply)
            outcome.replies.append(reply)

    if outcome.needs_attention:
        team, priority = ROUTES.get(p.intent, ("front_desk", "normal"))
        if p.confidence < CONFIDENCE_THRESHOLD and p.intent != "urgent":
            team = "front_desk"
        if outcome.reason == LLM_URGENT_REASON:  # LLM tier: see _Turn.run
            team, priority = "clinical", "urgent"
        who = f"{turn.patient.first_name} {turn.patient.last_name}".strip() if turn.patient else "Unknown sender"
        alert = Message(
            message_id=_id("a-", inbound_id), kind="staff_alert", patient_id=outcome.patient_id,
            appointment_id=appointment_id, phone=from_phone, at=now, status=MessageStatus.OPEN,
            body=f"{who}: {outcome.reason}", workflow="sms-agent", step=p.intent, priority=priority,
            intent=p.intent, reason=outcome.reason, team=team, automated=False,
        )
        if not services.messages.put_message(alert):
            alert = services.messages.get_message(alert.message_id) or alert
        if not alert.effects_done:
            services.notifier.notify(alert)  # a failure here fails the record: the redelivery pages
            services.messages.update_message(alert.message_id, effects_done=True)
            outcome.alert = alert
    services.messages.update_message(message_id, effects_done=True)
    return outcome


def _arrival(carrier_at: str) -> datetime | None:
    """When the carrier handed the text over (SNS's Timestamp), so a backlog in the queue does
    not make two texts sent minutes apart look like one sent twice."""
    try:
        got = datetime.fromisoformat(carrier_at) if carrier_at else None
    except ValueError:
        return None
    return got if got is not None and got.tzinfo is not None else None


def _repeat_of(services: Services, from_phone: str, body: str, message_id: str, at: datetime) -> Message | None:
    """The inbound text this one repeats, if any: the same words (case and spacing aside) from
    the same number within a minute of a text that was answered, with nothing sent to the
    number in between (a "yes" to a new question is a new answer). Phones resend, patients
    double-tap; a patient who writes "yes" twice gets one confirmation, not two. The claim is
    one conditional write, so two copies handled at once agree on which one answers."""
    digest = hashlib.sha256(" ".join(body.casefold().split()).encode()).hexdigest()[:32]
    holder = services.messages.claim_repeat(from_phone, digest, message_id, at, REPEAT_WINDOW)
    if holder == message_id:
        return None
    first = services.messages.get_message(holder)
    if first is None:  # the first copy is still being handled (or will be, on its redelivery)
        return Message(message_id=holder, kind="sms_in", phone=from_phone, body=body, at=at)
    if first.patient_id:
        own_reply = "r-" + holder.removeprefix("in-")
        sent_since = [m for m in services.messages.messages_for_patient(first.patient_id)
                      if m.kind == "sms_out" and m.at > first.at and m.message_id != own_reply]
        if sent_since:
            return None
    return first


def _record_repeat(services: Services, first: Message, from_phone: str, body: str, message_id: str,
                   now: datetime) -> InboundOutcome:
    """Keep the repeat in the thread (nothing a patient writes is dropped), answered by the
    first copy: no second reply, page or consent row."""
    repeat = Message(
        message_id=message_id, kind="sms_in", patient_id=first.patient_id, appointment_id=first.appointment_id,
        phone=from_phone, body=body, at=now, status=MessageStatus.RECEIVED, automated=False,
        intent=first.intent, reason=REPEAT_REASON, repeat_of=first.message_id, effects_done=True,
    )
    services.messages.put_message(repeat)  # False: a redelivery of this repeat, already kept
    return InboundOutcome(message_id, duplicate=True, patient_id=first.patient_id, intent=first.intent,
                          reason=REPEAT_REASON)
