"""Local stand-in for the Lex V2 runtime (`RecognizeText`), which moto lacks: the SMS classifier as
NLU, a slot filler for the bot's slots, and the real code hook called with real Lex V2 events."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from careloop.agent.features import normalize
from careloop.clock import Clock, get_clock
from careloop.practice import PracticeProfile
from careloop.voice.bot import (
    VISIT_TYPE,
    BotDefinition,
    BotLocale,
    bot_definition,
    fold,
    lex_intent_for_sms_intent,
)
from careloop_local import awsmodels
from careloop_local.sms_standin import validate

log = logging.getLogger(__name__)

SERVICE = "lexv2-runtime"
CodeHook = Callable[[dict], dict]
CLASSIFIER_SURE = 0.6  # below it the sample utterances are asked too, as Lex's own NLU would
UTTERANCE_MATCH = 0.6  # the share of a sample utterance's words the caller must have said
OPPORTUNISTIC_SLOTS = ("VisitType", "Date", "Time")  # what Lex reads out of the first utterance too
_YES = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok|okay|correct|right|that works|sounds good|perfect|please|go ahead|"
                  r"si|claro|vale|de acuerdo|esta bien|perfecto|correcto|bueno|por favor|confirmo)\b")
_NO = re.compile(r"^(?:no|nope|nah|not|another|different|other|none|neither|ninguna|ninguno|otra|otro|diferente)\b")
_NAME = re.compile(r"\b(?:my name is|my first name is|this is|i am|i'm|im|it's|its|me llamo|mi nombre es|soy)\s+([^\s,.!?]+)",
                   re.IGNORECASE)
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}
# AMAZON.Time's values for a part of the day (Lex resolves "morning" to MO, and so on)
PART_OF_DAY_VALUES = {"morning": "MO", "afternoon": "AF", "evening": "EV"}

def service_model():
    return awsmodels.service_model(SERVICE)


class LexError(awsmodels.RestJsonError):
    """An error answered the REST-JSON way (careloop_local.awsmodels)."""

    message_keys = ("message",)


# ---- the slot filler -------------------------------------------------------------------------

def slot_value(original: str, interpreted: str, resolved: list[str] | None = None) -> dict:
    """A Lex V2 slot as the code hook receives it."""
    return {"shape": "Scalar", "value": {"originalValue": original, "interpretedValue": interpreted,
                                          "resolvedValues": resolved if resolved is not None else [interpreted]}}


def read_date(text: str, today: date, lang: str) -> dict | None:
    """AMAZON.Date: the first day of the window asked for as YYYY-MM-DD (the window's days as resolvedValues)."""
    from careloop.agent.when import OPEN_WINDOW_DAYS, parse_when

    when = parse_when(text, today, lang)
    no_day_named = when is not None and when.first_day == today and (when.last_day - when.first_day).days + 1 == OPEN_WINDOW_DAYS
    if when is None or when.later or no_day_named:
        return None  # "in the morning", "at 3", "later": no day, so the Date slot stays empty
    days = [(when.first_day + timedelta(days=i)).isoformat() for i in range((when.last_day - when.first_day).days + 1)]
    return slot_value(text, when.first_day.isoformat(), days)


def read_time(text: str, today: date, lang: str) -> dict | None:
    """AMAZON.Time: HH:MM for an exact time, MO / AF / EV for a part of the day."""
    from careloop.agent.when import parse_when

    when = parse_when(text, today, lang)
    if when is None:
        return None
    if when.time is not None:
        return slot_value(text, when.time.strftime("%H:%M"))
    if when.part_of_day is not None:
        return slot_value(text, PART_OF_DAY_VALUES[when.part_of_day])
    return None


def read_visit_type(text: str, locale: BotLocale) -> dict | None:
    """The practice's appointment type the caller names: the bot's VisitType value (a type id)."""
    kinds = locale.slot_type(VISIT_TYPE)
    value = kinds.resolve(text) if kinds is not None else None
    return slot_value(text, value) if value else None


def read_first_name(text: str) -> dict | None:
    m = _NAME.search(text)
    words = re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)?", text)
    name = m.group(1) if m else (words[0] if 0 < len(words) <= 3 else None)
    if not name:
        return None
    name = name.strip(".,!?").capitalize()
    return slot_value(text, name)


def read_birth_date(text: str, lang: str) -> dict | None:
    """AMAZON.Date for a date of birth: 3/14/1985 (14/3/1985 in Spanish), 1985-03-14, March 14 1985,
    14 de marzo de 1985."""
    norm = normalize(text)
    found: tuple[int, int, int] | None = None
    if m := re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", norm):
        found = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif m := re.search(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b", norm):
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + (1900 if y > 30 else 2000) if y < 100 else y
        found = (y, b, a) if lang == "es" or a > 12 else (y, a, b)
    else:
        month = "|".join(sorted(_MONTHS, key=len, reverse=True))
        if m := re.search(rf"\b({month})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", norm):
            found = (int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
        elif m := re.search(rf"\b(\d{{1,2}}) (?:de )?({month}),? (?:de |del )?(\d{{4}})\b", norm):
            found = (int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    if found is None:
        return None
    try:
        return slot_value(text, date(*found).isoformat())
    except ValueError:
        return None


def fill_slot(name: str, text: str, today: date, locale: BotLocale) -> dict | None:
    """The value of slot `name` in `text`, or None (the bot's slots are named by spec/voice.md)."""
    lang = locale.language
    if name == "Date":
        return read_date(text, today, lang)
    if name == "Time":
        return read_time(text, today, lang)
    if name == "VisitType":
        return read_visit_type(text, locale)
    if name == "FirstName":
        return read_first_name(text)
    if name == "BirthDate":
        return read_birth_date(text, lang)
    if name == "LastName":
        words = re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)?", text)
        return slot_value(text, words[-1].capitalize()) if words else None
    if name == "Medication":
        return slot_value(text, text.strip()) if text.strip() else None
    return None


def closest_intent(text: str, locale: BotLocale) -> str | None:
    """The intent whose sample utterance the caller's words cover best (slot names left out), or None."""
    said = set(fold(text).split())
    best, best_score = None, 0.0
    for intent in locale.intents:
        for utterance in intent.utterances:
            words = set(fold(re.sub(r"\{\w+\}", " ", utterance)).split())
            if not words:
                continue
            score = len(words & said) / len(words)
            if score > best_score:
                best, best_score = intent.name, score
    return best if best_score >= UTTERANCE_MATCH else None


def yes_or_no(text: str) -> str | None:
    """ConfirmIntent's answer: Confirmed, Denied, or None when the caller said neither."""
    from careloop.agent.classifier import classify

    norm = normalize(text).strip()
    if _NO.match(norm):
        return "Denied"
    if _YES.match(norm):
        return "Confirmed"
    intent = classify(text).intent
    return {"confirm": "Confirmed", "thanks": "Confirmed", "cancel": "Denied", "reschedule": "Denied"}.get(intent)


# ---- the bot --------------------------------------------------------------------------------

@dataclass
class Session:
    """One call's Lex session: the state the last code-hook answer left."""

    state: dict = field(default_factory=dict)
    ended: bool = False
    turns: int = 0
    last_turn_at: datetime | None = None


class LexStandin:
    """The Lex V2 runtime for one bot: a WSGI app (RecognizeText) plus `recognize_text` for the local
    stack. `on_turn(session_id, answer)` lets the Connect stand-in act as the flow after each turn."""

    def __init__(self, *, code_hook: CodeHook, practice: PracticeProfile | Callable[[], PracticeProfile],
                 clock: Clock | None = None, bot_id: str = "CARELOOPBT", alias_id: str = "TSTALIASID",
                 bot_name: str = "careloop", bot_version: str = "DRAFT",
                 on_turn: Callable[[str, dict], None] | None = None) -> None:
        self.code_hook, self._practice, self._clock = code_hook, practice, clock
        self.bot_id, self.alias_id, self.bot_name, self.bot_version = bot_id, alias_id, bot_name, bot_version
        self.on_turn = on_turn
        self._lock = threading.RLock()
        self.sessions: dict[tuple[str, str], Session] = {}  # (locale, session id) -> session
        self._bot: tuple[PracticeProfile, BotDefinition] | None = None

    @property
    def practice(self) -> PracticeProfile:
        return self._practice() if callable(self._practice) else self._practice

    @property
    def bot(self) -> BotDefinition:
        practice = self.practice
        if self._bot is None or self._bot[0] is not practice:
            self._bot = (practice, bot_definition(practice))
        return self._bot[1]

    def session(self, session_id: str, locale: str = "en_US") -> Session | None:
        return self.sessions.get((locale, session_id))

    # ----------------------------------------------------------------- RecognizeText
    def recognize_text(self, *, bot_id: str, alias_id: str, locale_id: str, session_id: str, text: str,
                       session_state: dict | None = None, request_attributes: dict | None = None) -> dict:
        if bot_id != self.bot_id or alias_id != self.alias_id:
            raise LexError("ResourceNotFoundException", f"no bot {bot_id} with alias {alias_id}", 404)
        if locale_id not in {loc.locale_id for loc in self.bot.locales}:
            raise LexError("ResourceNotFoundException", f"the bot has no locale {locale_id}", 404)
        with self._lock:
            now = (self._clock or get_clock()).now()
            session = self.sessions.get((locale_id, session_id))
            idle = timedelta(seconds=self.bot.idle_session_ttl_seconds)
            if session is None or (session.last_turn_at is not None and now - session.last_turn_at > idle):
                session = self.sessions[(locale_id, session_id)] = Session()  # Lex forgets an idle session
            session.last_turn_at = now
            state = dict(session.state)
            if session_state:  # the caller's (Connect's) session state joins what the session kept
                attrs = {**state.get("sessionAttributes", {}), **session_state.get("sessionAttributes", {})}
                state = {**state, **session_state, "sessionAttributes": attrs}
            locale = self.bot.locale(locale_id)
            intent, interpretations = self._understand(state, text, locale)
            state.pop("dialogAction", None)
            state["intent"] = intent
            event = self._event("DialogCodeHook", session_id, locale_id, text, state, interpretations,
                                request_attributes or {})
            answer = self._call_hook(event)
            if answer.get("sessionState", {}).get("dialogAction", {}).get("type") == "Delegate":
                answer = self._delegate(answer, session_id, locale, text, interpretations, request_attributes or {})
            session.state = answer.get("sessionState") or {}
            session.turns += 1
            session.ended = session.state.get("dialogAction", {}).get("type") == "Close"
        result = {
            "messages": answer.get("messages") or [],
            # the runtime API's Slots map holds Slot objects only: an empty slot is left out
            "sessionState": _without_empty_slots(session.state),
            "interpretations": [_without_empty_slots(i) for i in interpretations],
            "requestAttributes": request_attributes or {},
            "sessionId": session_id,
        }
        if self.on_turn is not None:
            self.on_turn(session_id, result)
        return result

    def _understand(self, state: dict, text: str, locale: BotLocale) -> tuple[dict, list[dict]]:
        """The intent this utterance continues or starts, its slots filled from the utterance."""
        from careloop.agent.classifier import classify

        prediction = classify(text)
        today = self._today()
        action = state.get("dialogAction") or {}
        current = state.get("intent") or {}
        if prediction.intent == "urgent" or prediction.urgent_kind:
            intent = self._new_intent("UrgentHelp", locale)  # symptoms named in any turn count (spec/voice.md)
        elif action.get("type") == "ElicitSlot" and current.get("name"):
            intent = _copy(current)
            wanted = action.get("slotToElicit")
            if wanted:
                intent["slots"][wanted] = fill_slot(wanted, text, today, locale)
            for name in OPPORTUNISTIC_SLOTS:
                if name in intent["slots"] and not intent["slots"][name]:
                    intent["slots"][name] = fill_slot(name, text, today, locale)
        elif action.get("type") == "ConfirmIntent" and current.get("name") and yes_or_no(text):
            intent = _copy(current)
            intent["confirmationState"] = yes_or_no(text)
            if intent["confirmationState"] == "Denied":  # "no, thursday instead": the new day counts
                for name in ("Date", "Time"):
                    if name in intent["slots"] and (value := fill_slot(name, text, today, locale)):
                        intent["slots"][name] = value
        else:
            name = lex_intent_for_sms_intent(prediction.intent)
            if prediction.confidence < CLASSIFIER_SURE:  # unsure: the bot's own sample utterances decide
                name = closest_intent(text, locale) or name
            intent = self._new_intent(name, locale)
            for name in OPPORTUNISTIC_SLOTS:
                if name in intent["slots"]:
                    intent["slots"][name] = fill_slot(name, text, today, locale)
        interpretations = [{"intent": intent, "nluConfidence": {"score": round(prediction.confidence, 2)}}]
        if intent["name"] != "FallbackIntent":
            interpretations.append({"intent": self._new_intent("FallbackIntent", locale)})
        return intent, interpretations

    @staticmethod
    def _new_intent(name: str, locale: BotLocale) -> dict:
        found = locale.intent(name)
        return {"name": name, "slots": dict.fromkeys(s.name for s in (found.slots if found else ())),
                "state": "InProgress", "confirmationState": "None"}

    def _delegate(self, answer: dict, session_id: str, locale: BotLocale, text: str, interpretations: list[dict],
                  request_attributes: dict) -> dict:
        """Delegate: Lex goes on by itself, as the bot definition says: it asks for the first
        required slot still empty (with the slot's prompt), else fulfils the intent through the
        fulfillment code hook."""
        state = dict(answer.get("sessionState") or {})
        state.pop("dialogAction", None)
        intent = _copy(state.get("intent") or self._new_intent("FallbackIntent", locale))
        defined = locale.intent(intent.get("name", ""))
        for slot in defined.slots if defined else ():
            if slot.constraint == "Required" and not (intent.get("slots") or {}).get(slot.name):
                state["intent"] = intent
                state["dialogAction"] = {"type": "ElicitSlot", "slotToElicit": slot.name}
                return {"sessionState": state, "messages": [{"contentType": "PlainText", "content": slot.prompt}]}
        intent["state"] = "ReadyForFulfillment"
        state["intent"] = intent
        event = self._event("FulfillmentCodeHook", session_id, locale.locale_id, text, state, interpretations,
                            request_attributes)
        fulfilled = self._call_hook(event)
        if fulfilled.get("sessionState", {}).get("dialogAction", {}).get("type") == "Delegate":
            # a second Delegate: Lex closes the intent as fulfilled
            fulfilled = {**fulfilled, "sessionState": {**fulfilled["sessionState"], "dialogAction": {"type": "Close"}}}
        return fulfilled

    def _event(self, source: str, session_id: str, locale_id: str, text: str, state: dict,
               interpretations: list[dict], request_attributes: dict) -> dict:
        """A Lex V2 code-hook event as AWS sends it (lexv2-event.json)."""
        state = {"sessionAttributes": {}, "activeContexts": [], **_copy(state),
                 "originatingRequestId": str(uuid.uuid4())}
        return {
            "messageVersion": "1.0",
            "invocationSource": source,
            "inputMode": "Text",
            "responseContentType": "text/plain; charset=utf-8",
            "sessionId": session_id,
            "inputTranscript": text,
            "bot": {"id": self.bot_id, "name": self.bot_name, "aliasId": self.alias_id,
                    "localeId": locale_id, "version": self.bot_version},
            "interpretations": _copy(interpretations),
            "requestAttributes": dict(request_attributes),
            "sessionState": state,
            "transcriptions": [{"transcription": text, "transcriptionConfidence": 1.0,
                                "resolvedContext": {"intent": state["intent"]["name"]},
                                "resolvedSlots": {k: v for k, v in state["intent"]["slots"].items() if v}}],
        }

    def _call_hook(self, event: dict) -> dict:
        answer = self.code_hook(event)
        if not isinstance(answer, dict) or not isinstance(answer.get("sessionState"), dict):
            # what Lex says when the Lambda answers something it cannot read
            raise LexError("DependencyFailedException", "Invalid Lambda Response: the code hook's answer has no sessionState", 424)
        return answer

    def _today(self) -> date:
        return (self._clock or get_clock()).now().astimezone(self.practice.zone).date()

    # ----------------------------------------------------------------- WSGI (REST-JSON)
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self._route(request)
        except LexError as exc:
            response = exc.response()
        except Exception:  # answer like AWS would; the traceback stays in the log
            log.exception("lex stand-in failed on %s", request.path)
            response = LexError("InternalServerException", "internal error in the local stand-in", 500).response()
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        m = re.fullmatch(r"/bots/([^/]+)/botAliases/([^/]+)/botLocales/([^/]+)/sessions/([^/]+)/text", request.path)
        if request.method != "POST" or m is None:
            raise LexError("UnknownOperationException", f"{request.method} {request.path} is not implemented by the local stand-in", 404)
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise LexError("ValidationException", "request body is not JSON") from exc
        if not isinstance(body, dict):
            raise LexError("ValidationException", "request body must be a JSON object")
        params = {"botId": unquote(m.group(1)), "botAliasId": unquote(m.group(2)), "localeId": unquote(m.group(3)),
                  "sessionId": unquote(m.group(4)), **body}
        problems = validate(service_model().operation_model("RecognizeText").input_shape, params)
        if problems:
            raise LexError("ValidationException", "; ".join(p[1] for p in problems))
        result = self.recognize_text(bot_id=params["botId"], alias_id=params["botAliasId"], locale_id=params["localeId"],
                                     session_id=params["sessionId"], text=params["text"],
                                     session_state=params.get("sessionState"),
                                     request_attributes=params.get("requestAttributes"))
        shape = service_model().operation_model("RecognizeText").output_shape
        return Response(json.dumps({k: v for k, v in result.items() if k in shape.members}), 200,
                        content_type="application/json", headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _without_empty_slots(holder: dict) -> dict:
    """A copy of a session state or interpretation whose intent lists filled slots only."""
    out = _copy(holder)
    intent = out.get("intent")
    if isinstance(intent, dict) and isinstance(intent.get("slots"), dict):
        intent["slots"] = {k: v for k, v in intent["slots"].items() if v is not None}
    return out


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class LexServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, standin: LexStandin) -> None:
        super().__init__(host, port, standin)
        self.standin = standin


def serve(standin: LexStandin, host: str = "127.0.0.1", port: int = 0) -> tuple[LexServer, threading.Thread, str]:
    """Start the stand-in on a daemon thread: (server, thread, url)."""
    server = LexServer(host, port, standin)
    thread = threading.Thread(target=server.serve_forever, name="lex-standin", daemon=True)
    thread.start()
    return server, thread, f"http://{host}:{server.server_port}"
