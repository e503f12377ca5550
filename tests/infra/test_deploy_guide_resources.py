"""docs/deploy.md followed against the synthesised templates of every example profile: each resource
name it tells the IT person to type (tables, vault, opt-out list, DLQs, alarms, topic, dashboard,
secret), each route it sends the EHR or the bridge to, the groups, the password rules, the bot
alias, what it says survives a stack deletion and the settings it quotes, exist as it says.
(tests/test_deploy_guide.py checks the commands and options; test_example_profiles the outputs.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from careloop.practice import PracticeProfile
from careloop.roles import ROLES

from .conftest import PROFILES

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text()
# the properties a resource's name is in
NAME_PROPERTIES = ("TableName", "BackupVaultName", "OptOutListName", "ConfigurationSetName", "TopicName",
                   "DashboardName", "AlarmName", "QueueName", "Name", "UserPoolName", "FunctionName",
                   "LogGroupName", "InstanceAlias", "BotAliasName", "GroupName", "RuleName")


def _names(template: dict) -> dict[str, dict]:
    """Every plain-string resource name in the template -> its resource (the first, when two of
    different types share one: `_types_named` has them all)."""
    names: dict[str, dict] = {}
    for r in template["Resources"].values():
        for key in NAME_PROPERTIES:
            if isinstance(r.get("Properties", {}).get(key), str):
                names.setdefault(r["Properties"][key], r)
    return names


def _types_named(template: dict, name: str) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()
            if any(r.get("Properties", {}).get(key) == name for key in NAME_PROPERTIES)}


def _voice_on(profile: PracticeProfile) -> bool:
    return profile.voice is not None and profile.voice.enabled


def _section(title: str) -> str:
    start = GUIDE.index(title)
    nxt = GUIDE.find("\n## ", start + 1)
    return GUIDE[start: nxt if nxt > 0 else len(GUIDE)]


def _named_in_guide(practice_id: str) -> set[str]:
    """The guide's concrete `careloop-<id>-...` / `careloop-$PRACTICE-...` names, for this practice
    (patterns such as `careloop-<id>-<queue>-dlq` and prefixes ending in `-` are checked apart)."""
    found = re.findall(r"(?<![\w-])((?:aws-waf-logs-)?careloop-)(?:<id>|\$PRACTICE)(-[a-z0-9-]*[a-z0-9])?(?![\w<.-])",
                       GUIDE)
    return {f"{head}{practice_id}{suffix}" for head, suffix in found}


@pytest.mark.parametrize("practice_id", PROFILES)
def test_every_resource_name_the_guide_uses_exists(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    names = _names(synthesised.template)
    wanted = _named_in_guide(practice_id) - {f"careloop-{practice_id}"}  # the prefix alone: below
    assert {f"careloop-{practice_id}-records", f"careloop-{practice_id}-opt-outs",
            f"careloop-{practice_id}-backups", f"careloop-{practice_id}-ops",
            f"careloop-{practice_id}-ehr-webhook-errors", f"aws-waf-logs-careloop-{practice_id}-api"} <= wanted
    assert sorted(wanted - set(names)) == []
    # `--alarm-name-prefix careloop-$PRACTICE` lists them all
    alarms = [n for n, r in names.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(a.startswith(f"careloop-{practice_id}-") for a in alarms)
    # `careloop-<id>` is the configuration set and (voice on, no instance of its own) the alias
    assert "AWS::SMSVOICE::ConfigurationSet" in _types_named(synthesised.template, f"careloop-{practice_id}")


@pytest.mark.parametrize("practice_id", PROFILES)
def test_the_dlqs_the_guide_lists_are_the_stacks(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    (listed,) = re.findall(r"`careloop-<id>-<queue>-dlq` \(([^)]*)\)", GUIDE)
    queues = set(re.findall(r"[a-z][a-z-]*[a-z]", listed.split("and one per")[0])) | set(
        re.findall(r"[a-z][a-z-]*[a-z]", listed.split(":")[-1]))
    dlqs = {n.removeprefix(f"careloop-{practice_id}-").removesuffix("-dlq") for n, r in
            _names(synthesised.template).items() if r["Type"] == "AWS::SQS::Queue" and n.endswith("-dlq")}
    optional = {"voice-events"} if not _voice_on(synthesised.build.profile) else set()
    assert dlqs <= queues, f"DLQs the guide does not name: {sorted(dlqs - queues)}"
    assert queues - optional <= dlqs, f"DLQs the guide names that the stack lacks: {sorted(queues - optional - dlqs)}"


@pytest.mark.parametrize("practice_id", PROFILES)
def test_the_webhook_secret_is_where_the_guide_reads_it(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    profile = synthesised.build.profile
    name = f"careloop/{practice_id}/webhook-secret"  # every command of the guide reads this one
    assert "--secret-id careloop/$PRACTICE/webhook-secret" in GUIDE
    secrets = {r["Properties"]["Name"]: r for r in synthesised.resources.values()
               if r["Type"] == "AWS::SecretsManager::Secret"}
    if profile.webhook_secret_ref:  # created by hand first, as section 4 shows, under that name
        assert profile.webhook_secret_ref == name and secrets == {}
    else:
        assert set(secrets) == {name} and secrets[name]["DeletionPolicy"] == "Retain"
    (webhook,) = [f for f in synthesised.resources.values() if f["Type"] == "AWS::Lambda::Function"
                  and f["Properties"].get("FunctionName") == f"careloop-{practice_id}-ehr-webhook"]
    assert name in json.dumps(webhook["Properties"]["Environment"]["Variables"]["CARELOOP_WEBHOOK_SECRET_ARN"]) or (
        webhook["Properties"]["Environment"]["Variables"]["CARELOOP_WEBHOOK_SECRET_ARN"] == {
            "Ref": next(k for k, r in synthesised.resources.items() if r["Type"] == "AWS::SecretsManager::Secret")})


def test_the_rotation_wait_is_the_webhooks_secret_cache():
    wait = int(re.search(r"Wait (\d+) minutes \(a warm webhook function re-reads the secret", GUIDE).group(1))
    handler = (ROOT / "functions" / "ehr_webhook" / "handler.py").read_text()
    (max_age,) = re.findall(r"get_secret\([^)]*max_age=(\d+)\)", handler)
    assert wait * 60 >= int(max_age)


def _routes(template: dict) -> set[tuple[str, str]]:
    resources = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Resource"}

    def path_of(resource_id: str) -> str:
        props = resources[resource_id]["Properties"]
        parent = props["ParentId"].get("Ref")
        return (path_of(parent) if parent in resources else "") + "/" + props["PathPart"]

    return {(m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"]["Ref"]))
            for m in template["Resources"].values() if m["Type"] == "AWS::ApiGateway::Method"}


def _route_exists(routes: set[tuple[str, str]], method: str, path: str) -> bool:
    def fits(pattern: str) -> bool:
        regex = re.sub(r"\\\{[^}]*\\\+\\\}", ".+", re.sub(r"\\\{[^}]*[^+]\\\}", "[^/]+", re.escape(pattern)))
        return re.fullmatch(regex, path) is not None
    return any(m in (method, "ANY") and fits(p) for m, p in routes)


@pytest.mark.parametrize("practice_id", PROFILES)
def test_every_route_the_guide_sends_to_exists(profile_synths, practice_id):
    routes = _routes(profile_synths[practice_id].template)
    sent = set(re.findall(r"(?:<ApiUrl>|\$\(out ApiUrl\))(ehr/[a-z0-9]+)", GUIDE))
    assert {"ehr/fhir", "ehr/hl7v2"} <= sent
    for path in sent:  # the EHR and the bridge POST
        assert _route_exists(routes, "POST", "/" + path), path
    for method, path in re.findall(r"`(GET|POST|PUT) (/(?:api|ehr)/[^`\s]+)`", GUIDE):
        concrete = re.sub(r"<[^>]+>", "x1", path)
        assert _route_exists(routes, method, concrete), f"{method} {path}"


@pytest.mark.parametrize("practice_id", PROFILES)
def test_the_subscription_endpoint_is_apiurl_and_ehr_fhir(profile_synths, practice_id):
    (endpoint,) = re.findall(r'"endpoint": "([^"]+)"', GUIDE)
    synthesised = profile_synths[practice_id]
    api_url = synthesised.outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    (api_id,) = [k for k, r in synthesised.resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]
    refs = {"AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com", api_id: "abc123"} | {
        k: r["Properties"]["StageName"] for k, r in synthesised.resources.items() if r["Type"] == "AWS::ApiGateway::Stage"}
    # https://<api id>.execute-api.<region>.<suffix>/<stage>/ with the example's id and region
    resolved = "".join(p if isinstance(p, str) else refs[p["Ref"]] for p in api_url)
    assert endpoint == resolved + "ehr/fhir"


@pytest.mark.parametrize("practice_id", PROFILES)
def test_staff_sign_in_is_as_the_guide_describes(profile_synths, practice_id):
    resources = profile_synths[practice_id].resources.values()
    (pool,) = [r["Properties"] for r in resources if r["Type"] == "AWS::Cognito::UserPool"]
    policy = pool["Policies"]["PasswordPolicy"]
    section = _section("## 5. The first admin user")
    assert f"valid {policy['TemporaryPasswordValidityDays']} days" in section
    assert f"({policy['MinimumLength']}+ characters, upper, lower, digit, symbol)" in section
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # "no self sign-up"
    assert pool["UserPoolTier"] == "PLUS"  # "Cognito Plus tier"
    groups = {r["Properties"]["GroupName"] for r in resources if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    named = re.findall(r"`(\w+)`", section[section.index("The groups are"):].split("(")[0])
    assert set(named) == groups == set(ROLES)
    assert "--group-name admin" in section


@pytest.mark.parametrize("practice_id", [p for p in PROFILES if p != "example-dental-single"])
def test_the_voice_resources_are_as_section_6_says(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    profile = synthesised.build.profile
    assert _voice_on(profile)
    names = _names(synthesised.template)
    (alias,) = re.findall(r"the alias `(\w+)` calling the `voice` function", GUIDE)
    assert names[alias]["Type"] == "AWS::Lex::BotAlias"
    types = {r["Type"] for r in synthesised.resources.values()}
    expected = {"AWS::Connect::HoursOfOperation", "AWS::Connect::Queue", "AWS::Lex::Bot",
                "AWS::Connect::IntegrationAssociation", "AWS::Connect::ContactFlow", "AWS::Events::Rule"}
    if not profile.voice.connect_instance_arn:
        expected.add("AWS::Connect::Instance")
        alias_name = profile.voice.instance_alias or f"careloop-{practice_id}"
        assert "AWS::Connect::Instance" in _types_named(synthesised.template, alias_name)
    if not profile.voice.phone_number_arn:
        expected.add("AWS::Connect::PhoneNumber")
    assert expected <= types


@pytest.mark.parametrize("practice_id", PROFILES)
def test_sms_resources_are_as_section_6_says(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    profile = synthesised.build.profile
    by_type = {}
    for r in synthesised.resources.values():
        by_type.setdefault(r["Type"], []).append(r)
    (config_set,) = by_type["AWS::SMSVOICE::ConfigurationSet"]
    assert config_set["Properties"]["ConfigurationSetName"] == f"careloop-{practice_id}"
    (opt_outs,) = by_type["AWS::SMSVOICE::OptOutList"]
    assert opt_outs["DeletionPolicy"] == "Retain"
    numbers = by_type.get("AWS::SMSVOICE::PhoneNumber", [])
    if profile.sms.pool_id or profile.sms.phone_number_id:
        assert numbers == []  # "the stack sends from it but does not change it"
    else:
        (number,) = numbers
        props = number["Properties"]
        assert props["NumberType"] == profile.sms.number_type and number["DeletionPolicy"] == "Retain"
        assert props["SelfManagedOptOutsEnabled"] is True and props["TwoWay"]["Enabled"] is True
        assert props["DeletionProtectionEnabled"] is True
        stop, help_ = props["MandatoryKeywords"]["STOP"]["Message"], props["MandatoryKeywords"]["HELP"]["Message"]
        assert help_ == f"{profile.name}: appointment texts. Call {profile.phone} for help. Msg&data rates may apply. Reply STOP to opt out."
        assert stop == f"{profile.name}: you are unsubscribed and will get no more texts. Reply START to resubscribe."
    # the guide's claim that CloudFormation's Registration is an empty shell: the stack makes none
    assert "AWS::SMSVOICE::Registration" not in by_type


# "What survives even deleting the stack" -> the resource types that must be retained
SURVIVORS = {"the four DynamoDB tables": ("AWS::DynamoDB::Table", 4), "the KMS keys": ("AWS::KMS::Key", None),
             "the backup vault": ("AWS::Backup::BackupVault", 1), "the Cognito user pool": ("AWS::Cognito::UserPool", 1),
             "the log groups": ("AWS::Logs::LogGroup", None),
             "the EHR archive bucket and the access-log bucket": ("AWS::S3::Bucket", None)}


@pytest.mark.parametrize("practice_id", PROFILES)
def test_what_the_guide_says_survives_a_deletion_is_retained(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    rollback = " ".join(_section("## 9. Rollback").split())  # the prose wraps anywhere
    for phrase, (cfn_type, count) in SURVIVORS.items():
        assert phrase in rollback
        found = [r for r in synthesised.resources.values() if r["Type"] == cfn_type]
        assert found and all(r.get("DeletionPolicy") == "Retain" for r in found), cfn_type
        if count is not None:
            assert len(found) == count, cfn_type
    # "The Connect instance and the number it claimed are not retained"
    assert "The Connect instance and the number it claimed are not retained" in rollback
    for r in synthesised.resources.values():
        if r["Type"] in ("AWS::Connect::Instance", "AWS::Connect::PhoneNumber"):
            assert r.get("DeletionPolicy") != "Retain"
    assert synthesised.build.stack.termination_protection is True  # "The stack has termination protection"


@pytest.mark.parametrize("practice_id", PROFILES)
def test_alarms_reach_the_addresses_the_guide_says(profile_synths, practice_id):
    synthesised = profile_synths[practice_id]
    profile = synthesised.build.profile
    (ops_id,) = [k for k, r in synthesised.resources.items() if r["Type"] == "AWS::SNS::Topic"
                 and r["Properties"].get("TopicName") == f"careloop-{practice_id}-ops"]
    mailed = {r["Properties"]["Endpoint"] for r in synthesised.resources.values()
              if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["TopicArn"] == {"Ref": ops_id}
              and r["Properties"]["Protocol"] == "email"}
    assert mailed == set(profile.ops_emails or profile.staff_emails)  # "ops_emails (or staff_emails)"


def test_the_deploy_asks_before_widening_iam_as_the_guide_says():
    cdk = json.loads((ROOT / "cdk.json").read_text())
    assert "`requireApproval:\nbroadening`" in GUIDE or "`requireApproval: broadening`" in GUIDE
    assert cdk["requireApproval"] == "broadening"
    assert cdk["app"].split()[-1] == "app.py"  # "`cdk.json` runs `app.py`"
