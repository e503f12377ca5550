"""The app entry point: one stack per practice profile; a broken profile stops synth with a message
that names the field; a practice's existing SMS number is used instead of buying one."""

from __future__ import annotations

import json
import shutil

import pytest
from aws_cdk.assertions import Template

import app as entry_point
from careloop.errors import ConfigError
from infra import nag
from infra.application import PRACTICES_DIR, build_app, stack_name

from .conftest import functions_dir_for_tests

pytestmark = pytest.mark.infra


def _practices(tmp_path, **changes) -> tuple:
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    practice_id = changes.pop("id", "clinic")
    data.update(id=practice_id, **changes)
    folder = tmp_path / "practices"
    folder.mkdir(exist_ok=True)
    (folder / f"{practice_id}.json").write_text(json.dumps(data))
    return folder, practice_id


def test_stack_is_named_after_the_practice():
    assert stack_name("demo") == "Careloop-demo"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"phone": "not a phone"}, "phone"),
        ({"sms": {"number_type": "CARRIER_PIGEON"}}, "sms.number_type"),
        ({"staff_emailz": ["x@example.test"]}, "staff_emailz"),
    ],
)
def test_a_broken_profile_names_the_field(tmp_path, changes, field):
    folder, practice_id = _practices(tmp_path, **changes)

    with pytest.raises(ConfigError) as error:
        build_app(practice_id, bundle=False, practices_dir=folder)

    message = str(error.value)
    assert f"{practice_id}.json" in message
    assert f": {field}:" in message


def test_a_profile_whose_id_is_not_its_file_name_is_refused(tmp_path):
    folder, _ = _practices(tmp_path, id="clinic")
    shutil.move(folder / "clinic.json", folder / "other.json")

    with pytest.raises(ConfigError, match="id: 'clinic' does not match the file name 'other'"):
        build_app("other", bundle=False, practices_dir=folder)


def test_app_py_exits_with_the_message_for_an_unknown_practice(capsys):
    assert entry_point.main(["--practice", "no-such-practice", "--no-bundling"]) == 2
    assert "no-such-practice.json: no such practice profile" in capsys.readouterr().err


def test_other_profile_shape_existing_number_and_generated_secret(tmp_path):
    """Given a profile that names its End User Messaging number and no webhook secret, the stack
    requests no new number (the senders use, and may only use, that one), generates the secret,
    and still passes cdk-nag with no stale acknowledgement."""
    folder, practice_id = _practices(
        tmp_path,
        sms={
            "country": "US",
            "phone_number_id": "phone-0123456789abcdef",
            "number_type": "TOLL_FREE",
        },
        webhook_secret_ref=None,
        ehr={"kind": "fhir", "fhir_base_url": "https://ehr.example.test/fhir", "writeback": True,
             "token_secret_ref": "careloop/clinic/ehr-token"},
    )
    build = build_app(
        practice_id,
        bundle=False,
        outdir=str(tmp_path / "cdk.out"),
        practices_dir=folder,
        functions_dir=functions_dir_for_tests(tmp_path / "functions"),
        web_dist=None,
    )

    template = Template.from_stack(build.stack)  # synthesises the app: nag gates this shape too

    report = nag.read_report(tmp_path / "cdk.out")
    assert nag.unacknowledged(report) == []
    applied = {(a.path, a.rule) for a in build.acknowledgements if "Annotation::" not in a.rule}
    assert applied == nag.used_acknowledgements(report)
    template.resource_count_is("AWS::SMSVOICE::PhoneNumber", 0)
    template.resource_count_is("AWS::SMSVOICE::ConfigurationSet", 1)
    template.resource_count_is("AWS::SMSVOICE::OptOutList", 1)
    template.resource_count_is("Custom::CDKBucketDeployment", 0)  # no web/dist given
    # write-back: only its worker may read the EHR token, and it is told where it is
    template.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": {"CARELOOP_EHR_TOKEN_SECRET_ARN": "careloop/clinic/ehr-token"}}})
    token_readers = [
        name for name, res in template.find_resources("AWS::IAM::ManagedPolicy").items()
        if any(st.get("Sid") == "ReadEhrToken" for st in res["Properties"]["PolicyDocument"]["Statement"])]
    assert len(token_readers) == 1 and "Writeback" in token_readers[0]
    expected_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sms-voice:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":phone-number/phone-0123456789abcdef",
            ],
        ]
    }
    resources = template.to_json()["Resources"]
    functions = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and "FunctionName" in r["Properties"]
    }
    sender_env = functions["careloop-clinic-sms-sender"]["Environment"]["Variables"]
    assert sender_env["CARELOOP_SMS_ORIGINATION_IDENTITY"] == expected_arn
    send_sms = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "SendSms"
    ]
    assert send_sms and all(expected_arn in s["Resource"] for s in send_sms)
    (secret_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret"]
    webhook_env = functions["careloop-clinic-ehr-webhook"]["Environment"]["Variables"]
    assert webhook_env["CARELOOP_WEBHOOK_SECRET_ARN"] == {"Ref": secret_id}


def test_naming_both_a_number_and_a_pool_is_refused(tmp_path):
    folder, practice_id = _practices(
        tmp_path, sms={"country": "US", "phone_number_id": "phone-1", "pool_id": "pool-1"}
    )

    with pytest.raises(ConfigError, match="sms.phone_number_id and sms.pool_id"):
        build_app(practice_id, bundle=False, practices_dir=folder)


def test_a_function_without_its_handler_is_refused(tmp_path):
    functions = functions_dir_for_tests(tmp_path / "functions")
    if functions == tmp_path / "functions":
        (functions / "planner" / "handler.py").unlink()
    else:  # the real handlers exist: use a copy without the planner's
        shutil.copytree(functions, tmp_path / "copy", ignore=shutil.ignore_patterns("__pycache__"))
        functions = tmp_path / "copy"
        (functions / "planner" / "handler.py").unlink()

    with pytest.raises(ConfigError, match="planner/handler.py: missing"):
        build_app("demo", bundle=False, functions_dir=functions, web_dist=None)
