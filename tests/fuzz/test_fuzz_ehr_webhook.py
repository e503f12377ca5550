"""The EHR webhook handler (`POST /ehr/fhir`, `POST /ehr/hl7v2`) under damaged samples: it answers
2xx or 4xx naming the problem, never raises, and keeps every refused payload, byte for byte, to replay."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import ANSWERS, SECRET, Wired, crashers, oversized_keys, webhook_event
from tests.fuzz.strategies import byte_damage, encode_json, fhir_documents, hl7_messages


@pytest.fixture(scope="module")
def webhook():
    mp = pytest.MonkeyPatch()
    from careloop.settings import reset_settings

    mp.setenv("CARELOOP_WEBHOOK_SECRET", SECRET)
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    mp.delenv("CARELOOP_WEBHOOK_SECRET_ARN", raising=False)
    reset_settings()
    yield Wired("ehr_webhook")
    mp.undo()
    reset_settings()


def posted(webhook: Wired, path: str, body: bytes, accept: str = "") -> dict:
    """One delivery on fresh fakes, and the property every answer keeps."""
    webhook.fresh()
    answer = webhook.call(webhook_event(path, body, accept=accept))
    status = answer["statusCode"]
    assert status in ANSWERS, (status, answer.get("body", "")[:500])
    text = answer["body"] or ""
    if status >= 400:
        if "hl7" in accept:
            assert "MSA|AR|" in text and len(text.split("MSA|AR|", 1)[1].split("|", 2)) >= 2, text[:500]
        else:
            outcome = json.loads(text)
            assert outcome["resourceType"] == "OperationOutcome"
            assert all(i.get("diagnostics") for i in outcome["issue"]), outcome
        # a refused payload is quarantined as it came, with its reason next to it: replayable
        stored = webhook.archive.list("quarantine/")
        (key,) = [k for k in stored if not k.endswith(".reason.json")]
        assert webhook.archive.get(key)[0] == body
        assert json.loads(webhook.archive.get(key + ".reason.json")[0])["issues"]
    else:
        assert status == 200 and len(webhook.archive.list("archive/")) == 1
    assert oversized_keys(webhook.services) == []
    return answer


@FUZZ
@given(doc=fhir_documents(), data=st.data())
def test_damaged_fhir_is_answered_and_what_is_refused_is_kept(webhook, doc, data):
    posted(webhook, "/ehr/fhir", data.draw(byte_damage(encode_json(doc))))


@FUZZ
@given(body=hl7_messages(), accept=st.sampled_from(["", "x-application/hl7-v2+er7"]))
def test_damaged_hl7_is_answered_and_what_is_refused_is_kept(webhook, body, accept):
    posted(webhook, "/ehr/hl7v2", body, accept)


@FUZZ
@given(body=st.binary(max_size=2048), path=st.sampled_from(["/ehr/fhir", "/ehr/hl7v2"]))
def test_arbitrary_bytes_are_answered(webhook, body, path):
    posted(webhook, path, body)


@FUZZ
@example(signature="t=" + "9" * 5000 + ",v1=ab")  # found: int() refuses past 4,300 digits, a ValueError (500)
@given(signature=st.one_of(st.text(max_size=300), st.sampled_from(
    ["t=", "t=1,v1=", "t=99999999999999999999999,v1=ab", "t=-5,v1=00", "sha256=", "t=1,t=2,v1=x", ",,,", "=", "t=١٢٣,v1=ab"])))
def test_forged_signatures_are_refused_with_401(webhook, signature):
    webhook.fresh()
    body = b'{"resourceType": "Patient", "id": "p1"}'
    answer = webhook.call(webhook_event("/ehr/fhir", body, signature=signature))
    assert answer["statusCode"] == 401 and json.loads(answer["body"])["issue"][0]["diagnostics"]
    assert webhook.archive.list("") == []  # an unsigned body is not kept: anyone could fill the bucket


@pytest.mark.parametrize("path", crashers("fhir") + crashers("hl7"), ids=lambda p: p.name)
def test_every_crasher_found_is_answered(webhook, path):
    body = path.read_bytes()
    if path.suffix == ".b64":
        body = base64.b64decode(body)
    route = "/ehr/fhir" if path.name.startswith("fhir-") else "/ehr/hl7v2"
    posted(webhook, route, body, "x-application/hl7-v2+er7" if ".ack." in path.name else "")
