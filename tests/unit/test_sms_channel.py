"""The End User Messaging adapter against botocore's Stubber (every request is validated
against the real pinpoint-sms-voice-v2 service model), message parts, and template limits."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from careloop.adapters.aws import EndUserMessagingSms
from careloop.errors import ConfigError, SendError
from careloop.settings import Settings
from careloop.sms.parts import count_parts, encoding
from careloop.workflows import load_workflows

SETTINGS = Settings(sms_configuration_set="careloop-demo-config", sms_origination_identity="phone-abc123",
                    sms_opt_out_list="careloop-demo-optout")


def channel():
    client = botocore.session.get_session().create_client("pinpoint-sms-voice-v2", region_name="us-east-1",
                                                          aws_access_key_id="x", aws_secret_access_key="x")
    return EndUserMessagingSms(SETTINGS, client), Stubber(client)


def test_send_text_message_request_matches_the_service_model():
    sms, stub = channel()
    stub.add_response("send_text_message", {"MessageId": "abc-1"}, expected_params={
        "DestinationPhoneNumber": "+16175550101", "OriginationIdentity": "phone-abc123",
        "MessageBody": "Hi Ana", "MessageType": "TRANSACTIONAL", "ConfigurationSetName": "careloop-demo-config",
        "Context": {"message_id": "m-1", "workflow": "appointment-reminder", "step": "reminder-48h"}})
    with stub:
        assert sms.send("+16175550101", "Hi Ana", {"message_id": "m-1", "workflow": "appointment-reminder",
                                                   "step": "reminder-48h"}) == "abc-1"
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("code, reason, permanent", [
    ("ThrottlingException", None, False),
    ("InternalServerException", None, False),
    ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT", True),
    ("ValidationException", "INVALID_PARAMETER", True),
])
def test_errors_are_transient_or_permanent(code, reason, permanent):
    sms, stub = channel()
    extra = {"Reason": reason} if reason else {}
    stub.add_client_error("send_text_message", service_error_code=code, service_message="no", modeled_fields=extra if code in ("ConflictException", "ValidationException") else None,
                          http_status_code=400 if permanent else 500)
    with stub, pytest.raises(SendError) as err:
        sms.send("+16175550101", "Hi", {"message_id": "m-1"})
    assert err.value.permanent is permanent
    if reason:
        assert err.value.code == reason


def test_opt_out_list_calls():
    sms, stub = channel()
    stub.add_response("put_opted_out_number", {"OptOutListArn": "arn:aws:sms-voice:us-east-1:1:opt-out-list/x",
                                               "OptOutListName": "careloop-demo-optout", "OptedOutNumber": "+16175550101",
                                               "EndUserOptedOut": False},
                      expected_params={"OptOutListName": "careloop-demo-optout", "OptedOutNumber": "+16175550101"})
    stub.add_client_error("delete_opted_out_number", service_error_code="ResourceNotFoundException",
                          modeled_fields={"ResourceType": "opted-out-number", "ResourceId": "+16175550101"})
    with stub:
        sms.opt_out("+16175550101")
        sms.opt_in("+16175550101")  # not on the list: nothing to do


@pytest.mark.parametrize("body, parts, enc", [
    ("a" * 160, 1, "GSM"), ("a" * 161, 2, "GSM"), ("a" * 306, 2, "GSM"), ("a" * 307, 3, "GSM"),
    ("€" * 80, 1, "GSM"), ("€" * 81, 2, "GSM"), ("Hola 👋", 1, "UCS2"), ("í" * 70, 1, "UCS2"), ("í" * 71, 2, "UCS2"),
    ("👍" * 35, 1, "UCS2"), ("👍" * 36, 2, "UCS2"),
])
def test_parts(body, parts, enc):
    assert (count_parts(body), encoding(body)) == (parts, enc)


def test_a_template_over_three_parts_is_rejected_when_saved():
    long = "Hi {{ first_name }}, " + "this is a very long message about your visit. " * 12
    with pytest.raises(ConfigError, match="message parts"):
        load_workflows([{"id": "x", "name": "x", "trigger": {"on": "appointment_booked"}, "steps": [
            {"id": "s", "timing": {"anchor": "start", "offset_minutes": -60},
             "action": {"type": "sms", "template": {"en": long, "es": "Hola"}}}]}])
