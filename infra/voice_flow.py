"""The practice's inbound contact flow, generated as Amazon Connect flow language JSON: greeting,
language choice, the Lex bot with the spec's session attributes, the outcome, transfer or callback."""

from __future__ import annotations

from dataclasses import dataclass

from careloop.practice import PracticeProfile

FLOW_LANGUAGE_VERSION = "2019-10-30"
# Outcomes after which the call is done (spec/voice.md); `transferred`, `unresolved` and no outcome
# at all go to a person in office hours, and to a callback otherwise.
FINISHED_OUTCOMES = ("booked", "confirmed", "cancelled", "rescheduled", "answered", "callback", "urgent")
SESSION_ATTRIBUTES = {  # set on the bot's session before it starts (spec/voice.md)
    "callerNumber": "$.CustomerEndpoint.Address",
    "practiceNumber": "$.SystemEndpoint.Address",
    "contactId": "$.ContactId",
}
OUTCOME_ATTRIBUTE = "careloopOutcome"
# set by the code hook on a fulfilled Close that named no outcome ("thanks, bye"): the caller is
# done, so the flow hangs up instead of queueing the call (careloop.voice.hook.CLOSED)
CLOSED_ATTRIBUTE = "careloopClosed"


@dataclass(frozen=True)
class FlowLanguage:
    """What the flow says and how, in one of the bot's languages."""

    language: str  # careloop language: en, es
    language_code: str  # the contact's language: picks the bot's locale and Polly's language
    voice_id: str
    key: str  # the digit that picks it
    opening: str
    connecting: str
    after_hours: str


def languages(practice_name: str) -> tuple[FlowLanguage, ...]:
    return (
        FlowLanguage("en", "en-US", "Joanna", "1", "How can I help you today?",
                     "One moment, I'm connecting you with the front desk.",
                     f"{practice_name} is closed right now. If your number came through on this call, the team will "
                     "call you back when the office opens; if not, please call again then. Goodbye."),
        FlowLanguage("es", "es-US", "Lupe", "2", "¿En qué le puedo ayudar hoy?",
                     "Un momento, le comunico con la recepción.",
                     f"{practice_name} está cerrado en este momento. Si su número apareció en esta llamada, el equipo "
                     "le devolverá la llamada cuando abra la oficina; si no, llámenos entonces. Adiós."),
    )


def greeting_ssml(practice_name: str) -> str:
    """Says it is an automated assistant (spec/voice.md) and offers both languages, each in its own."""
    name = practice_name.replace("&", "&amp;").replace("<", "").replace(">", "")
    return (
        f"<speak>Thank you for calling {name}. I'm the practice's automated assistant. "
        "For English, press 1 or stay on the line. "
        '<lang xml:lang="es-US">Gracias por llamar. Soy el asistente automático. Para español, oprima 2.</lang>'
        "</speak>"
    )


def _action(identifier: str, kind: str, parameters: dict | None = None, *, next_action: str | None = None,
            errors: tuple[tuple[str, str], ...] = (), conditions: tuple[tuple[str, str], ...] = ()) -> dict:
    transitions: dict = {}
    if next_action is not None:
        transitions["NextAction"] = next_action
    if errors:
        transitions["Errors"] = [{"NextAction": target, "ErrorType": error} for error, target in errors]
    if conditions:
        transitions["Conditions"] = [
            {"NextAction": target, "Condition": {"Operator": "Equals", "Operands": [value]}}
            for value, target in conditions
        ]
    return {"Identifier": identifier, "Type": kind, "Parameters": parameters or {}, "Transitions": transitions}


def contact_flow(profile: PracticeProfile, *, bot_alias_arn: str, queue_arn: str, hours_arn: str) -> dict:
    """The flow as Connect's flow language (a dict; ARNs may be CDK tokens)."""
    langs = languages(profile.name)
    default = langs[0]
    actions = [
        _action("greeting", "GetParticipantInput",
                {"SSML": greeting_ssml(profile.name), "StoreInput": "False", "InputTimeLimitSeconds": "4"},
                next_action=f"{default.language}-voice",
                conditions=tuple((lang.key, f"{lang.language}-voice") for lang in langs),
                errors=(("InputTimeLimitExceeded", f"{default.language}-voice"),
                        ("NoMatchingCondition", f"{default.language}-voice"),
                        ("NoMatchingError", f"{default.language}-voice"))),
    ]
    for lang in langs:
        actions += _language_branch(lang, bot_alias_arn=bot_alias_arn, queue_arn=queue_arn, hours_arn=hours_arn)
    actions.append(_action("disconnect", "DisconnectParticipant"))
    return {
        "Version": FLOW_LANGUAGE_VERSION,
        "StartAction": "greeting",
        "Metadata": {"generator": "careloop infra/voice_flow.py", "practice": profile.id},
        "Actions": actions,
    }


def _language_branch(lang: FlowLanguage, *, bot_alias_arn: str, queue_arn: str, hours_arn: str) -> list[dict]:
    def at(step: str) -> str:
        return f"{lang.language}-{step}"

    finished = tuple((outcome, "disconnect") for outcome in FINISHED_OUTCOMES)
    return [
        _action(at("voice"), "UpdateContactTextToSpeechVoice",
                {"TextToSpeechVoice": lang.voice_id, "TextToSpeechEngine": "Neural"}, next_action=at("language")),
        # the contact's language picks the bot's locale (en_US / es_US)
        _action(at("language"), "UpdateContactData", {"LanguageCode": lang.language_code},
                next_action=at("bot"), errors=(("NoMatchingError", at("bot")),)),
        _action(at("bot"), "ConnectParticipantWithLexBot",
                {"Text": lang.opening, "LexV2Bot": {"AliasArn": bot_alias_arn},
                 "LexSessionAttributes": dict(SESSION_ATTRIBUTES)},
                next_action=at("outcome"),
                errors=(("NoMatchingCondition", at("outcome")), ("NoMatchingError", at("outcome")))),
        # contact events carry no Lex session: the outcome the code hook set goes on the contact,
        # where the voice-events function reads it with DescribeContact
        _action(at("outcome"), "UpdateContactAttributes",
                {"Attributes": {OUTCOME_ATTRIBUTE: f"$.Lex.SessionAttributes.{OUTCOME_ATTRIBUTE}",
                                "careloopLanguage": lang.language},
                 "TargetContact": "Current"},
                next_action=at("closed"), errors=(("NoMatchingError", at("closed")),)),
        # a fulfilled Close with no outcome: the caller's business is done, whatever the outcome says
        _action(at("closed"), "Compare", {"ComparisonValue": f"$.Lex.SessionAttributes.{CLOSED_ATTRIBUTE}"},
                next_action=at("route"), conditions=(("Fulfilled", "disconnect"),),
                errors=(("NoMatchingCondition", at("route")),)),
        _action(at("route"), "Compare", {"ComparisonValue": f"$.Attributes.{OUTCOME_ATTRIBUTE}"},
                next_action=at("queue"), conditions=finished, errors=(("NoMatchingCondition", at("queue")),)),
        _action(at("queue"), "UpdateContactTargetQueue", {"QueueId": queue_arn},
                next_action=at("hours"), errors=(("NoMatchingError", at("after-hours")),)),
        _action(at("hours"), "CheckHoursOfOperation", {"HoursOfOperationId": hours_arn},
                conditions=(("True", at("connecting")), ("False", at("after-hours"))),
                errors=(("NoMatchingError", at("after-hours")),)),
        _action(at("connecting"), "MessageParticipant", {"Text": lang.connecting},
                next_action=at("transfer"), errors=(("NoMatchingError", at("transfer")),)),
        _action(at("transfer"), "TransferContactToQueue",
                next_action=at("after-hours"),
                errors=(("QueueAtCapacity", at("after-hours")), ("NoMatchingError", at("after-hours")))),
        # closed (or nobody free): the call ends in a callback; the voice-events function texts the
        # caller (an unfinished outcome) and the inbox holds the callback
        _action(at("after-hours"), "UpdateContactAttributes",
                {"Attributes": {OUTCOME_ATTRIBUTE: "callback"}, "TargetContact": "Current"},
                next_action=at("callback"), errors=(("NoMatchingError", at("callback")),)),
        _action(at("callback"), "MessageParticipant", {"Text": lang.after_hours},
                next_action="disconnect", errors=(("NoMatchingError", "disconnect"),)),
    ]
