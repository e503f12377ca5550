"""The SMS agent's LLM tier in the stack: bedrock:InvokeModel is granted to sms_inbound alone, on
the profile's model only, and only when the practice turned the tier on; nag stays clean."""

from __future__ import annotations

import json

import pytest

from infra import nag
from infra.application import PRACTICES_DIR, build_app

from .conftest import functions_dir_for_tests

pytestmark = pytest.mark.infra

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
FOUNDATION = "anthropic.claude-haiku-4-5-20251001-v1:0"


def _bedrock_statements(resources: dict) -> dict[str, list[dict]]:
    """Policy logical id -> its statements that name a bedrock action."""
    found = {}
    for name, res in resources.items():
        if res["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        statements = [
            st for st in res["Properties"]["PolicyDocument"]["Statement"]
            if any(str(a).startswith("bedrock:") for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
        ]
        if statements:
            found[name] = statements
    return found


def test_demo_stack_turns_the_tier_on_where_the_region_offers_the_model(synth):
    # Given the demo practice (the LLM tier is on by default)
    # Then sms_inbound alone may call Bedrock, and its switch is a deploy-time region condition
    grants = _bedrock_statements(synth.resources)
    assert len(grants) == 1 and "SmsInbound" in next(iter(grants))
    condition = synth.template.to_json()["Conditions"]["LlmRegion"]
    regions = {c["Fn::Equals"][1] for c in condition["Fn::Or"]}
    assert regions == {"us-east-1", "us-east-2", "us-west-2"}
    functions = synth.of_type("AWS::Lambda::Function")
    # (CDK's custom-resource provider that points the voice number at its flow has no environment)
    switches = {name: f["Properties"].get("Environment", {}).get("Variables", {}).get("CARELOOP_LLM_AVAILABLE")
                for name, f in functions.items()}
    on = {name: v for name, v in switches.items() if v is not None}
    assert len(on) == 1 and "SmsInbound" in next(iter(on))
    assert next(iter(on.values())) == {"Fn::If": ["LlmRegion", "true", "false"]}


def test_a_practice_that_turns_the_tier_off_grants_no_bedrock_access(tmp_path):
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id="nollm", agent={"llm_enabled": False})
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "nollm.json").write_text(json.dumps(data))
    build = build_app("nollm", bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    template = build.app.synth().get_stack_by_name(build.stack.stack_name).template
    assert _bedrock_statements(template["Resources"]) == {} and "LlmRegion" not in template.get("Conditions", {})


def test_enabled_tier_grants_invoke_model_to_sms_inbound_only(tmp_path):
    # Given a practice that turned the LLM tier on with the default inference-profile model
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id="llmclinic", agent={"llm_enabled": True})
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "llmclinic.json").write_text(json.dumps(data))

    # When the app is synthesised (cdk-nag gates this shape too)
    build = build_app("llmclinic", bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    template = build.app.synth().get_stack_by_name(build.stack.stack_name).template

    # Then only sms_inbound's policy names bedrock, with InvokeModel alone
    grants = _bedrock_statements(template["Resources"])
    assert list(grants) == [build.stack.resolve(build.stack.get_logical_id(
        build.stack.policies["sms_inbound"].node.default_child))]
    (statements,) = grants.values()
    assert {st["Sid"] for st in statements} == {"InvokeLlmProfile", "InvokeLlmModelThroughProfile"}
    assert all(st["Action"] == "bedrock:InvokeModel" and st["Effect"] == "Allow" for st in statements)
    by_sid = {st["Sid"]: st for st in statements}
    profile_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:", {"Ref": "AWS::Region"}, ":",
                                     {"Ref": "AWS::AccountId"}, f":inference-profile/{MODEL}"]]}
    assert by_sid["InvokeLlmProfile"]["Resource"] == profile_arn
    # the foundation model in any region the profile routes to, but only through that profile
    model = by_sid["InvokeLlmModelThroughProfile"]
    assert model["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                   f":bedrock:*::foundation-model/{FOUNDATION}"]]}
    assert model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}

    # and nag: no open finding, every acknowledgement used (the wildcard region is explained)
    report = nag.read_report(tmp_path / "cdk.out")
    assert nag.unacknowledged(report) == []
    applied = {(a.path, a.rule) for a in build.acknowledgements if "Annotation::" not in a.rule}
    assert applied == nag.used_acknowledgements(report)


def test_a_bare_model_id_is_granted_in_the_stack_region_only(tmp_path):
    # Given a practice whose model id is a foundation model (no inference profile)
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id="novaclinic", agent={"llm_enabled": True, "llm_model_id": "amazon.nova-micro-v1:0"})
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "novaclinic.json").write_text(json.dumps(data))

    # When synthesised
    build = build_app("novaclinic", bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    template = build.app.synth().get_stack_by_name(build.stack.stack_name).template

    # Then one statement, this region's foundation model, and nag has nothing to say
    ((statement,),) = _bedrock_statements(template["Resources"]).values()
    assert statement["Sid"] == "InvokeLlmModel" and "Condition" not in statement
    assert statement["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:",
                                                       {"Ref": "AWS::Region"}, "::foundation-model/amazon.nova-micro-v1:0"]]}
    assert nag.unacknowledged(nag.read_report(tmp_path / "cdk.out")) == []
