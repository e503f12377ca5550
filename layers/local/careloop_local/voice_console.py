"""One caller turn and one hang-up on the local stack, as the phone network and the contact flow
would make them: what `/dev/voice/say`, `/dev/voice/hangup` and `careloop call` share."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from careloop.errors import CareloopError, InvalidPhone
from careloop.phones import to_e164

if TYPE_CHECKING:
    from careloop_local.runtime import LocalStack

LOCALES = ("en_US", "es_US")
# Lex V2's sessionId pattern (botocore lexv2-runtime model): the call id becomes the session id
CALL_ID = re.compile(r"[0-9a-zA-Z._:-]{2,100}")
_TAGS = re.compile(r"<[^>]+>")


class VoiceTurnError(CareloopError):
    """A caller turn or hang-up the sandbox cannot make: names the field at fault."""


def speakable(messages: list[dict]) -> str:
    """What the caller hears, as text: the messages' content, SSML tags dropped."""
    return " ".join(" ".join(_TAGS.sub(" ", m.get("content") or "").split()) for m in messages).strip()


def _call_id(data: Any) -> str:
    call = data.get("call") if isinstance(data, dict) else None
    if not isinstance(call, str) or not CALL_ID.fullmatch(call):
        raise VoiceTurnError("call: expected a call id of 2-100 letters, digits or . _ : - (the contact id)")
    return call


def say(stack: LocalStack, data: Any) -> dict:
    """`{"call", "from", "text", "locale"?}` -> `{"reply", "intent", "dialogAction", "ended", "outcome"}`:
    the call reaches the flow on its first turn (Connect stand-in), the flow sets the session
    attributes, and the turn goes to the bot through the Lex V2 runtime's RecognizeText."""
    if not isinstance(data, dict):
        raise VoiceTurnError('expected JSON {"call": "c-1", "from": "+16175550101", "text": "hi", "locale": "en_US"}')
    call = _call_id(data)
    text, raw_from, locale = data.get("text"), data.get("from"), data.get("locale")
    if not isinstance(text, str) or not text.strip() or len(text) > 1024:
        raise VoiceTurnError("text: expected what the caller says, 1-1024 characters")
    if not isinstance(raw_from, str):
        raise VoiceTurnError("from: expected the caller's phone number")
    try:
        caller = to_e164(raw_from)
    except InvalidPhone as exc:
        raise VoiceTurnError(f"from: {exc}") from exc
    if locale is not None and locale not in LOCALES:
        raise VoiceTurnError(f"locale: expected one of {', '.join(LOCALES)}")
    contact = stack.connect.get_contact(call)
    if contact is not None and contact.get("DisconnectTimestamp"):
        raise VoiceTurnError("call: that call has ended; start another with a new call id")
    if contact is not None and contact["CustomerEndpoint"]["Address"] != caller:
        raise VoiceTurnError("from: the call is already under way from another number")
    practice_number = _practice_number(stack)
    if contact is None:
        # the flow's language choice, kept on the contact as infra/voice_flow.py keeps it
        chosen = locale or "en_US"
        contact = stack.connect.start_call(call, caller, practice_number,
                                           {"careloopLocale": chosen, "careloopLanguage": chosen[:2]})
    locale = contact.get("Attributes", {}).get("careloopLocale") or locale or "en_US"
    answer = stack.lex_runtime().recognize_text(
        botId=stack.lex.bot_id, botAliasId=stack.lex.alias_id, localeId=locale, sessionId=call, text=text,
        # the flow's Set session attributes block (spec/voice.md)
        sessionState={"sessionAttributes": {"callerNumber": caller, "practiceNumber": practice_number,
                                            "contactId": call}},
    )
    state = answer.get("sessionState") or {}
    action = (state.get("dialogAction") or {}).get("type")
    return {"reply": speakable(answer.get("messages") or []), "intent": (state.get("intent") or {}).get("name"),
            "dialogAction": action, "ended": action == "Close",
            "outcome": (state.get("sessionAttributes") or {}).get("careloopOutcome")}


def hang_up(stack: LocalStack, data: Any) -> dict:
    """`{"call"}`: the caller hangs up; Connect emits DISCONNECTED through the EventBridge rule and
    the voice-events function records the call (and texts back a missed one)."""
    from careloop.adapters.aws import services
    from careloop.voice import calls

    call = _call_id(data)
    if stack.connect.get_contact(call) is None:
        raise VoiceTurnError("call: no such call (say something first)")
    event = stack.connect.hang_up(call)
    stack.drain()
    entry = services().messages.get_message(calls.entry_id(call))
    return {"call": call, "eventType": event["detail"]["eventType"], "ended": True,
            "outcome": entry.outcome if entry else None, "summary": entry.body if entry else None}


def _practice_number(stack: LocalStack) -> str:
    """The number the caller dialled: the practice's own."""
    from careloop.settings import get_settings

    return get_settings().practice().phone

