"""The role gaps through the inbox_api handler on moto: assignees from moto's Cognito pool (a
disabled account left out), the patient page as each role may see it, each open in the access log."""

from __future__ import annotations

import boto3

from careloop.models import Message, MessageStatus, Patient
from careloop_local.runtime import DEMO_STAFF_BY_ROLE
from tests.integration.test_roles_api import call

PHONE = "+16175550178"


def test_assignees_are_the_enabled_accounts_of_the_user_pool(stack):
    # Given the demo pool (one user per role) and an invited colleague who then left (disabled)
    assert call(stack, "admin", "POST", "staff", {"email": "left@maple.example", "role": "front_desk"})[0] == 201
    boto3.client("cognito-idp", region_name="us-east-1").admin_disable_user(
        UserPoolId=stack.res.user_pool_id, Username="left@maple.example")
    # When the front desk asks who can be assigned
    status, answer = call(stack, "front_desk", "GET", "assignees")
    # Then every demo user is, the one who left is not, and neither can be given a conversation
    assert status == 200 and set(DEMO_STAFF_BY_ROLE.values()) <= set(answer["staff"])
    assert "left@maple.example" not in answer["staff"]
    from careloop.adapters.aws import services

    services().records.put_patient(Patient(id="p-assign", first_name="Test", last_name="Assign", phone=PHONE))
    services().messages.put_message(Message(message_id="in-assign", patient_id="p-assign", phone=PHONE, kind="sms_in",
                                            body="hello", at=services().clock.now(), needs_attention=True))
    status, said = call(stack, "front_desk", "POST", "patients/p-assign/assign", {"assignee": "left@maple.example"})
    assert status == 400 and said["message"].startswith("assignee")
    assert call(stack, "front_desk", "POST", "patients/p-assign/assign",
                {"assignee": DEMO_STAFF_BY_ROLE["clinical"]}) == (
        200, {"patient_id": "p-assign", "assignee": DEMO_STAFF_BY_ROLE["clinical"]})


def test_the_patient_page_as_each_role_may_see_it_and_each_open_logged(stack):
    from careloop.adapters.aws import services

    svc = services()
    now = svc.clock.now()
    # Given a patient whose conversation the agent routed to the clinical team
    svc.records.put_patient(Patient(id="p-rg", first_name="Rosa", last_name="Grant", phone="+16175550179"))
    svc.messages.put_message(Message(message_id="in-rg", patient_id="p-rg", phone="+16175550179", kind="sms_in",
                                     body="the swelling is worse today", at=now, needs_attention=True))
    svc.messages.put_message(Message(message_id="al-rg", patient_id="p-rg", phone="+16175550179", kind="staff_alert",
                                     body="Swelling after extraction", at=now, status=MessageStatus.OPEN,
                                     team="clinical"))
    seen = {}
    for role in ("admin", "front_desk", "clinical", "billing"):
        status, page = call(stack, role, "GET", "patients/p-rg/timeline", request_id=f"req-rg-{role}")
        assert status == 200
        seen[role] = page
    # Then the caring roles read the words; billing has the entries without them
    for role in ("admin", "front_desk", "clinical"):
        assert "the swelling is worse today" in str(seen[role]["entries"])
    assert "swelling" not in str(seen["billing"]).lower()
    assert all(e.get("withheld") for e in seen["billing"]["entries"] if e["kind"] in ("text_in", "alert"))
    assert seen["billing"]["may"]["change_consent"] is False and seen["front_desk"]["may"]["change_consent"] is True
    # and billing cannot reach the words another way
    assert call(stack, "billing", "GET", "patients/p-rg/messages")[0] == 403
    # and every open, billing's too, is in the access log once
    opens = [(e["staff"], e["action"], e["subject"]) for e in svc.access_log.access_entries()
             if e["request_id"].startswith("req-rg-")]
    assert sorted(opens) == sorted((f"{r}@maple.test", "open_patient", "p-rg")
                                   for r in ("admin", "front_desk", "clinical", "billing"))


def test_a_colleague_given_another_teams_conversation_sees_and_opens_it(stack):
    from careloop.adapters.aws import services

    svc = services()
    phone = "+16175550180"
    svc.records.put_patient(Patient(id="p-handed", first_name="Test", last_name="Handed", phone=phone))
    svc.messages.put_message(Message(message_id="al-handed", patient_id="p-handed", phone=phone, kind="staff_alert",
                                     body="wants a call back", at=svc.clock.now(), status=MessageStatus.OPEN,
                                     team="front_desk"))

    def clinical_inbox() -> set[str]:
        return {c["patient_id"] for c in call(stack, "clinical", "GET", "inbox")[1]["conversations"]}

    # a front-desk conversation: not clinical's to see or open
    assert "p-handed" not in clinical_inbox()
    assert call(stack, "clinical", "GET", "patients/p-handed/messages")[0] == 403
    # When the front desk assigns it to the clinical colleague (an account of the pool), Then they
    # see it, open it and note it
    assert call(stack, "admin", "POST", "staff", {"email": "clinical@maple.test", "role": "clinical"})[0] == 201
    assert call(stack, "front_desk", "POST", "patients/p-handed/assign", {"assignee": "clinical@maple.test"})[0] == 200
    assert "p-handed" in clinical_inbox()
    assert call(stack, "clinical", "GET", "patients/p-handed/messages")[0] == 200
    assert call(stack, "clinical", "POST", "patients/p-handed/notes", {"body": "I'll call her"})[0] == 201
    # and billing, not assigned, still does not
    assert call(stack, "billing", "GET", "patients/p-handed/messages")[0] == 403
