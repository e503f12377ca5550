"""Self-scheduling routes (public, throttled): the booking page at /b/<token> and its API
/booking/api/types|slots|book (spec/booking.md). Errors map to HTTP in one place below."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from careloop.adapters.aws import services
from careloop.booking import page, service
from careloop.errors import BookingError, BookingInputError, SlotTaken, TooManyRequests

MAX_BODY = 4096  # a booking is a few short fields: anything bigger is not one
logger, metrics = Logger(), Metrics(namespace="Careloop")
app = APIGatewayRestResolver()
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _q(name: str) -> str | None:
    return app.current_event.get_query_string_value(name)


@app.get("/b/<token>")
def get_page(token: str):
    # the page reads its token from the path and calls /booking/api at the same origin; an unknown
    # token gets the same page (its API call answers 404), so the page says nothing about a link
    return Response(200, "text/html; charset=utf-8", page.html(), headers=_NO_STORE)


@app.get("/booking/api/types")
def get_types():
    return Response(200, "application/json", {"types": service.types_for(services(), _q("t"))}, headers=_NO_STORE)


@app.get("/booking/api/slots")
def get_slots():
    answer = service.slots_for(services(), _q("t"), _q("type"), _q("from"), _q("days"))
    return Response(200, "application/json", answer, headers=_NO_STORE)


@app.post("/booking/api/book")
def post_book():
    try:
        body = json.loads(app.current_event.body or "")
    except ValueError as exc:
        raise BookingInputError("body", "is not JSON") from exc
    if not isinstance(body, dict):
        raise BookingInputError("body", 'expected {"t", "type", "start", "provider"?}')
    booked = service.book(services(), body.get("t"), body.get("type"), body.get("start"), body.get("provider"))
    a = booked.appointment
    metrics.add_metric("Booked", "Count", 1)
    logger.info("booked", extra={"appointment_id": a.id, "status": booked.status})
    return Response(201, "application/json", {"status": booked.status, "appointment": {
        "id": a.id, "start": a.start.astimezone(service.zone_for(services(), booked.location)).isoformat(),
        "end": a.end.astimezone(service.zone_for(services(), booked.location)).isoformat(),
        "provider": a.provider, "location": booked.location, "type": booked.type}}, headers=_NO_STORE)


@app.exception_handler(BookingError)
def refused(exc: BookingError):
    answer: dict = {"error": str(exc)}
    if isinstance(exc, SlotTaken):
        answer["slots"] = exc.alternatives  # optional field: the next open slots instead
    headers = _NO_STORE | ({"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {})
    return Response(exc.status, "application/json", answer, headers=headers)


@app.not_found
def no_route(exc: Exception):
    # the same answer shape as every other refusal (the page reads `error`)
    return Response(404, "application/json", {"error": "no such booking route"}, headers=_NO_STORE)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event, context):
    if len(event.get("body") or "") > MAX_BODY:
        return {"statusCode": 413, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"error": f"body: larger than {MAX_BODY} bytes"})}
    return app.resolve(event, context)
