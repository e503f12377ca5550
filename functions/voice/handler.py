"""The voice agent's Lex V2 code hook (Amazon Connect -> Lex V2 -> this): one caller turn through
careloop.voice.hook. A bad event gets a polite Close and a WARNING (ids only), never an error to Lex."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import services
from careloop.errors import PayloadError
from careloop.voice.hook import handle_lex_event, polite_close

# No X-Ray SDK (see functions/sms_inbound): Lambda's active tracing instead.
logger, metrics = Logger(), Metrics(namespace="Careloop")


def _obj(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _ids(event: object) -> dict[str, str]:
    """What a log line may say about a turn: ids and names, never what the caller said."""
    e = _obj(event)
    state = _obj(e.get("sessionState"))
    intent, attrs, bot = _obj(state.get("intent")), _obj(state.get("sessionAttributes")), _obj(e.get("bot"))
    return {"contact_id": str(attrs.get("contactId") or e.get("sessionId") or ""), "intent": str(intent.get("name") or ""),
            "locale": str(bot.get("localeId") or "en_US"), "source": str(e.get("invocationSource") or "")}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    ids = _ids(event)
    try:
        answer = handle_lex_event(services(), event)
    except PayloadError as exc:  # names the missing field, never a value
        logger.warning("unreadable Lex event", extra={**ids, "reason": str(exc)})
        metrics.add_metric("VoiceBadEvent", MetricUnit.Count, 1)
        return polite_close(ids["locale"], event)
    except Exception as exc:  # the caller hears an apology and the flow goes on; the type only (values may be PHI)
        logger.error("voice turn failed", extra={**ids, "error": type(exc).__name__})
        metrics.add_metric("VoiceTurnFailed", MetricUnit.Count, 1)
        return polite_close(ids["locale"], event)
    session = answer["sessionState"]
    logger.info("voice turn", extra={**ids, "dialog_action": session["dialogAction"]["type"],
                                     "outcome": session["sessionAttributes"].get("careloopOutcome")})
    metrics.add_metric("VoiceTurns", MetricUnit.Count, 1)
    return answer
