"""The local HTTP front: what API Gateway, CloudFront and Cognito's endpoint are in AWS.

Requests become API Gateway REST proxy events for the real handlers; `/api` checks the Cognito
ID token like the user-pool authorizer; `/dev/...` is the local-only sandbox.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from careloop.errors import InvalidPhone
from careloop.phones import to_e164
from careloop_local.events import api_event
from careloop_local.runtime import REGION, ROOT, LocalStack

if TYPE_CHECKING:  # joserfc is imported on the first /api request only
    from joserfc.jwk import KeySet

WEB_DIST = ROOT / "web" / "dist"
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# The calls the staff web app's sign-in and sign-out send (web/src/auth.ts), and no others: the
# passthrough carries no AWS credentials, so an admin call (AdminCreateUser...) must not reach moto.
COGNITO_SIGN_IN_ACTIONS = frozenset({
    "InitiateAuth", "RespondToAuthChallenge", "AssociateSoftwareToken", "VerifySoftwareToken", "GlobalSignOut",
})


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def cognito_issuer(user_pool_id: str, region: str = REGION) -> str:
    """The `iss` of the pool's tokens, as Cognito (and moto) write it."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def forward_cognito(moto_url: str, request: Request) -> Response:
    """The browser talks to Cognito's real JSON API; locally that is moto behind this path, for
    the sign-in calls only (COGNITO_SIGN_IN_ACTIONS)."""
    if request.method == "OPTIONS":
        return Response(status=204)
    target = request.headers.get("X-Amz-Target", "")
    action = target.removeprefix(COGNITO_TARGET_PREFIX) if target.startswith(COGNITO_TARGET_PREFIX) else ""
    if action not in COGNITO_SIGN_IN_ACTIONS:
        # Cognito's error shape ("__type"), so the web app and SDKs read it like any other refusal
        return _json({"__type": "AccessDeniedException",
                      "message": f"{target or 'no X-Amz-Target'} is not passed through: the local Cognito "
                                 f"endpoint allows only {', '.join(sorted(COGNITO_SIGN_IN_ACTIONS))}"}, 403)
    req = urllib.request.Request(
        moto_url + "/", data=request.get_data(), method="POST",
        headers={"Content-Type": request.headers.get("Content-Type", "application/x-amz-json-1.1"),
                 "X-Amz-Target": COGNITO_TARGET_PREFIX + action},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback only)
            return Response(resp.read(), status=resp.status, content_type=resp.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        return Response(exc.read(), status=exc.code, content_type=exc.headers.get("Content-Type"))


class CognitoAuthorizer:
    """Validates the ID token (signature against the pool's JWKS, issuer, audience, expiry)."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._keys: KeySet | None = None  # the pool's JWKS, fetched on the first token

    def claims(self, token: str | None) -> dict | None:
        if not token:
            return None
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if self._keys is None:
            url = f"{self.stack.moto_url}/{self.stack.res.user_pool_id}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback only)
                self._keys = KeySet.import_key_set(json.loads(resp.read()))
        try:
            claims = dict(jwt.decode(token.removeprefix("Bearer ").strip(), self._keys).claims)
        except (JoseError, ValueError):
            return None
        if claims.get("exp", 0) < time.time() or claims.get("token_use") != "id":
            return None
        if claims.get("aud") != self.stack.res.client_id:
            return None
        # exactly this pool's issuer: a suffix match would take a pool whose id merely ends with ours
        if claims.get("iss") != cognito_issuer(self.stack.res.user_pool_id):
            return None
        return claims


class LocalHttp:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.auth = CognitoAuthorizer(stack)
        self.urls = Map([
            Rule("/health", endpoint="health", methods=["GET"]),
            Rule("/config.json", endpoint="config", methods=["GET"]),
            Rule("/cognito/", endpoint="cognito", methods=["POST", "OPTIONS"]),
            Rule("/ehr/fhir", endpoint="ehr", defaults={"kind": "fhir"}, methods=["POST"]),
            Rule("/ehr/hl7v2", endpoint="ehr", defaults={"kind": "hl7v2"}, methods=["POST"]),
            Rule("/ehr/jobs/<job_id>", endpoint="ehr_job", methods=["GET"]),
            Rule("/api/<path:proxy>", endpoint="api"),
            Rule("/b/<token>", endpoint="booking_page", methods=["GET"]),
            Rule("/booking/api/<any(types, slots):route>", endpoint="booking_api", methods=["GET"]),
            Rule("/booking/api/<any(book):route>", endpoint="booking_api", methods=["POST"]),
            Rule("/dev/sms/inbound", endpoint="dev_inbound", methods=["POST"]),
            Rule("/dev/sms/outbox", endpoint="dev_outbox", methods=["GET"]),
            Rule("/dev/clock/advance", endpoint="dev_advance", methods=["POST"]),
            Rule("/dev/clock", endpoint="dev_clock", methods=["GET"]),
            Rule("/dev/ehr/quarantine", endpoint="dev_quarantine", methods=["GET"]),
            Rule("/dev/ehr/replay", endpoint="dev_replay", methods=["POST"]),
            Rule("/dev/ehr/rotate-secret", endpoint="dev_rotate_secret", methods=["POST"]),
            Rule("/dev/audit", endpoint="dev_audit", methods=["GET"]),
            Rule("/dev/appointments", endpoint="dev_appointments", methods=["GET"]),
            Rule("/dev/voice/lex", endpoint="dev_voice_lex", methods=["POST"]),
            Rule("/dev/voice/say", endpoint="dev_voice_say", methods=["POST"]),
            Rule("/dev/voice/hangup", endpoint="dev_voice_hangup", methods=["POST"]),
            Rule("/dev/connect/event", endpoint="dev_connect_event", methods=["POST"]),
            Rule("/", endpoint="static", defaults={"path": "index.html"}),
            Rule("/<path:path>", endpoint="static", methods=["GET"]),
        ])

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.urls.bind_to_environ(environ).match()
            response = getattr(self, f"on_{endpoint}")(request, **args)
        except HTTPException as exc:
            response = _json({"message": exc.description}, exc.code or 500)
        except Exception as exc:  # the local front answers JSON, and says where to look
            logging.getLogger("careloop_local").exception("request failed: %s %s", request.method, request.path)
            response = _json({"message": f"internal error ({type(exc).__name__}); see the careloop local log"}, 500)
        return response(environ, start_response)

    # basics ------------------------------------------------------------------------------
    def on_health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    def on_config(self, request: Request) -> Response:
        from careloop.settings import get_settings

        base = request.host_url.rstrip("/")
        return _json({
            "practiceName": get_settings().practice().name,
            "apiBase": "/api",
            "cognito": {"endpoint": f"{base}/cognito/", "region": "us-east-1",
                        "clientId": self.stack.res.client_id, "userPoolId": self.stack.res.user_pool_id},
            # the web app reads "now" here, so the stack's virtual clock (moved by /dev/clock/advance)
            # is its clock too; the deployed config.json has none and the browser's clock is used
            "devClock": "/dev/clock",
        })

    def on_static(self, request: Request, path: str) -> Response:
        target = (WEB_DIST / path).resolve()
        if not str(target).startswith(str(WEB_DIST.resolve())) or not target.is_file():
            if "." not in Path(path).name and (WEB_DIST / "index.html").is_file():
                target = WEB_DIST / "index.html"
            else:
                return _json({"message": f"not found: /{path} (is the web app built? make web)"}, 404)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(target.read_bytes(), content_type=mime, headers={"Cache-Control": "no-cache"})

    def on_cognito(self, request: Request) -> Response:
        return forward_cognito(self.stack.moto_url, request)

    # API Gateway -------------------------------------------------------------------------
    def _proxy(self, function: str, request: Request, resource: str, path_parameters=None, claims=None) -> Response:
        event = api_event(
            request.method, request.path, resource, dict(request.headers),
            {k: request.args.getlist(k) for k in request.args}, request.get_data(),
            path_parameters, claims, request.remote_addr or "127.0.0.1",
        )
        out = self.stack.invoke(function, event)
        body = out.get("body") or ""
        if out.get("isBase64Encoded"):
            import base64

            body = base64.b64decode(body)
        headers = dict(out.get("headers") or {})
        for k, values in (out.get("multiValueHeaders") or {}).items():
            headers[k] = values[-1]
        return Response(body, status=out["statusCode"], headers=headers)

    def on_ehr(self, request: Request, kind: str) -> Response:
        return self._proxy("ehr_webhook", request, f"/ehr/{kind}")

    def on_ehr_job(self, request: Request, job_id: str) -> Response:
        return self._proxy("ehr_webhook", request, "/ehr/jobs/{job_id}", {"job_id": job_id})

    def on_api(self, request: Request, proxy: str) -> Response:
        claims = self.auth.claims(request.headers.get("Authorization"))
        if claims is None:
            return _json({"message": "Unauthorized"}, 401)
        return self._proxy("inbox_api", request, "/api/{proxy+}", {"proxy": proxy}, claims)

    def on_booking_page(self, request: Request, token: str) -> Response:
        return self._proxy("booking", request, "/b/{token}", {"token": token})

    def on_booking_api(self, request: Request, route: str) -> Response:
        # after a booking the appointment's stream plans its reminder and the confirmation goes
        # out: drained here so a caller sees them, as it would a moment later in AWS
        response = self._proxy("booking", request, f"/booking/api/{route}")
        if request.method == "POST":
            self.stack.drain()
        return response

    # the sandbox -------------------------------------------------------------------------
    def on_dev_inbound(self, request: Request) -> Response:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("from"), str) or not isinstance(data.get("body"), str):
            return _json({"message": 'expected JSON {"from": "+16175550101", "body": "C"}'}, 400)
        try:
            sender = to_e164(data["from"])
        except InvalidPhone as exc:
            return _json({"message": f"from: {exc}"}, 400)
        inbound_id = self.stack.standin.receive(sender, self.stack.res.phone_number, data["body"])
        self.stack.drain()
        return _json({"inbound_message_id": inbound_id}, 202)

    def on_dev_outbox(self, request: Request) -> Response:
        from careloop.adapters.aws import services

        messages = services().messages
        out = []
        for m in self.stack.standin.outbox():
            ctx = m.get("context") or {}
            ours = messages.get_message(ctx["message_id"]) if ctx.get("message_id") else None
            out.append({
                "id": ctx.get("message_id") or m["message_id"],
                "to": m["destination"],
                "body": m["body"],
                "at": ours.at.isoformat() if ours else m["at"],
                "status": str(ours.status) if ours else m.get("status", "sent"),
                "workflow": ctx.get("workflow"),
                "step": ctx.get("step"),
            })
        return _json(out)

    def on_dev_advance(self, request: Request) -> Response:
        data = request.get_json(force=True, silent=True)
        minutes = data.get("minutes") if isinstance(data, dict) else None
        if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes < 0 or minutes > 60 * 24 * 400:
            return _json({"message": 'expected JSON {"minutes": <0..576000>}'}, 400)
        return _json(self.stack.advance(minutes))

    def on_dev_quarantine(self, request: Request) -> Response:
        """What the EHR webhook could not understand, kept for replay, with the reasons."""
        from careloop.adapters.aws import archive

        store = archive()
        out = []
        for key in store.list("quarantine/"):
            if key.endswith(".reason.json"):
                continue
            reason = json.loads(store.get(key + ".reason.json")[0])
            out.append({"key": key, "kind": reason["kind"], "issues": reason["issues"],
                        "received_at": reason["received_at"]})
        return _json(out)

    def on_dev_replay(self, request: Request) -> Response:
        """`careloop ehr replay --endpoint`: re-run quarantined payloads through the intake."""
        from careloop.adapters.aws import archive, services
        from careloop_local.ehr_replay import replay_request

        with self.stack._lock:
            status, body = replay_request(services(), archive(), request.get_json(force=True, silent=True))
        self.stack.drain()
        return _json(body, status)

    def on_dev_rotate_secret(self, request: Request) -> Response:
        """`careloop ehr rotate-secret --endpoint`: a new webhook secret, the old one valid for the
        overlap (`{"overlap_hours": 24, "secret": optional}`)."""
        from careloop.errors import ConfigError

        data = request.get_json(force=True, silent=True)
        data = data if isinstance(data, dict) else {}
        try:
            overlap = float(data.get("overlap_hours", 24))
            secrets = self.stack.rotate_webhook_secret(data.get("secret") or None, overlap)
        except (ConfigError, TypeError, ValueError) as exc:
            return _json({"message": str(exc) or "overlap_hours: a number of hours"}, 400)
        return _json({"secret": secrets.current,
                      "previous_expires": secrets.previous_expires.isoformat() if secrets.previous_expires else None})

    def on_dev_audit(self, request: Request) -> Response:
        from careloop.adapters.aws import services
        from careloop.audit import audit

        svc = services()
        try:
            stale_days = int(request.args.get("stale_days", "180"))
        except ValueError:
            return _json({"message": "stale_days: a whole number of days"}, 400)
        report = audit(svc.records, svc.clock.now(), stale_days=stale_days, region=svc.practice.sms.country)
        if request.args.get("format") == "csv":
            return Response(report.to_csv(), content_type="text/csv")
        return _json(report.to_json())

    def on_dev_appointments(self, request: Request) -> Response:
        """Every appointment the local stack holds (spec/booking.md, Local sandbox)."""
        from careloop.adapters.aws import services

        records = services().records
        patients = {p.id: p for p in records.all_patients()}
        out = []
        for a in sorted(records.all_appointments(), key=lambda a: (a.start, a.id)):
            patient = patients.get(a.patient_id)
            out.append({"id": a.id, "patient": a.patient_id, "phone": patient.phone if patient else None,
                        "start": a.start.isoformat(), "end": a.end.isoformat(), "status": a.status,
                        "confirmed": a.confirmed, "source": a.source or "ehr", "provider": a.provider,
                        "location": a.location, "visit_type": a.visit_type})
        return _json(out)

    def on_dev_clock(self, request: Request) -> Response:
        return _json({"now": self.stack.now().isoformat()})

    # the voice sandbox (spec/voice.md, Local sandbox) ------------------------------------
    def on_dev_voice_lex(self, request: Request) -> Response:
        """A Lex V2 code-hook event straight to the voice function; its answer, as it is."""
        event = request.get_json(force=True, silent=True)
        if not isinstance(event, dict) or not isinstance(event.get("sessionState"), dict):
            return _json({"message": "expected a Lex V2 code-hook event (JSON with sessionState, "
                                     "as tests/data/aws-lambda-dotnet-events/lexv2-event.json)"}, 400)
        return _json(self.stack.invoke("voice", event))

    def on_dev_voice_say(self, request: Request) -> Response:
        from careloop_local.voice_console import VoiceTurnError, say

        data = request.get_json(force=True, silent=True)
        try:
            answer = say(self.stack, data)
        except VoiceTurnError as exc:
            return _json({"message": str(exc)}, 400)
        self.stack.drain()  # a booking's confirmation text goes out, as it would a moment later in AWS
        return _json(answer)

    def on_dev_voice_hangup(self, request: Request) -> Response:
        from careloop_local.voice_console import VoiceTurnError, hang_up

        data = request.get_json(force=True, silent=True)
        try:
            answer = hang_up(self.stack, data)
        except VoiceTurnError as exc:
            return _json({"message": str(exc)}, 400 if "expected" in str(exc) else 404)
        return _json(answer)

    def on_dev_connect_event(self, request: Request) -> Response:
        """A contact event as AWS delivers it, and what DescribeContact answers for its contact."""
        from careloop.voice.contact import ContactEventError, lenient_json, parse_contact_event

        data = lenient_json(request.get_data(as_text=True))
        if not isinstance(data, dict) or not isinstance(data.get("event"), dict) or not isinstance(data.get("contact"), dict):
            return _json({"message": 'expected JSON {"event": <Amazon Connect Contact Event>, '
                                     '"contact": <DescribeContact Contact object>}'}, 400)
        try:
            parsed = parse_contact_event(data["event"])
        except ContactEventError as exc:
            return _json({"message": f"event: {exc}"}, 400)
        # AWS's own samples mix key cases (voice.md): "id", "ID" and "Id" are the same key, kept
        # under DescribeContact's own spelling (contact.py reads them case-insensitively too)
        data["contact"] = _describe_contact_keys(data["contact"])
        if data["contact"].get("Id") != parsed.contact_id:
            return _json({"message": "contact.Id: must be the event's detail.contactId"}, 400)
        try:
            self.stack.connect.put_contact(data["contact"], parsed.instance_id)
            self.stack.put_contact_event(data["event"])
        except ValueError as exc:
            return _json({"message": str(exc)}, 400)
        self.stack.drain()
        return _json({"contactId": parsed.contact_id, "eventType": parsed.event_type}, 202)


def _describe_contact_keys(contact: dict) -> dict:
    """A DescribeContact `Contact` object with every key the service model knows spelled as the
    model spells it, whatever its case; unknown keys (and free-form maps such as Attributes) as given."""
    from careloop_local.connect_standin import service_model

    def canonical(shape: Any, value: Any) -> Any:
        if shape is None:
            return value
        if shape.type_name == "structure" and isinstance(value, dict):
            names = {name.lower(): name for name in shape.members}
            out: dict = {}
            for key, item in value.items():
                name = names.get(str(key).lower(), key)
                out[name] = canonical(shape.members.get(name), item)
            return out
        if shape.type_name == "list" and isinstance(value, list):
            return [canonical(shape.member, item) for item in value]
        return value

    shape = service_model().operation_model("DescribeContact").output_shape.members["Contact"]
    return canonical(shape, contact)
