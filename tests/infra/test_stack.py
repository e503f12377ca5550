"""The synthesised demo stack has every resource of the design, wired from careloop.wiring and
careloop.tables, encrypted, with DLQs and least-privilege roles."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from careloop import tables, wiring
from infra import bundling
from infra.stack import kebab

pytestmark = pytest.mark.infra

KEY = "DataKey"


def _ref(synth, construct) -> dict:
    return {"Ref": synth.logical_id(construct)}


def _arn(synth, construct) -> dict:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


def _function(synth, name: str) -> dict:
    return synth.resources[synth.logical_id(synth.build.stack.functions[name])]


def _policy_document(synth, name: str) -> dict:
    policy = synth.resources[synth.logical_id(synth.build.stack.policies[name])]
    return policy["Properties"]["PolicyDocument"]


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else actions


def _key_arn(synth) -> dict:
    return _arn(synth, synth.build.stack.key)


# --- encryption key -------------------------------------------------------------------------------


def test_customer_managed_key_rotates(synth):
    key = synth.resources[synth.logical_id(synth.build.stack.key)]
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    services = [
        s["Principal"].get("Service") for s in statements if "Service" in s.get("Principal", {})
    ]
    assert "sms-voice.amazonaws.com" in services and "sns.amazonaws.com" in services


# --- tables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", tables.ALL_TABLES, ids=lambda s: s.logical)
def test_table_matches_its_spec(synth, spec):
    table = synth.build.stack.tables[spec.logical]
    props = synth.resources[synth.logical_id(table)]["Properties"]
    assert props["TableName"] == f"careloop-demo-{spec.logical}"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"] == _key_arn(synth)
    keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
    assert keys[spec.partition_key] == "HASH"
    if spec.sort_key:
        assert keys[spec.sort_key] == "RANGE"
    if spec.stream:
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    else:
        assert "StreamSpecification" not in props
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        schema = {k["AttributeName"]: k["KeyType"] for k in indexes[index.name]["KeySchema"]}
        assert schema[index.partition_key] == "HASH"
        if index.sort_key:
            assert schema[index.sort_key] == "RANGE"


def test_tables_are_in_a_backup_plan(synth):
    selection = next(iter(synth.of_type("AWS::Backup::BackupSelection").values()))
    resources = json.dumps(selection["Properties"]["BackupSelection"]["Resources"])
    for table in synth.build.stack.tables.values():
        assert synth.logical_id(table) in resources


# --- functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", wiring.FUNCTIONS, ids=lambda s: s.name)
def test_function_from_wiring(synth, spec):
    stack = synth.build.stack
    props = _function(synth, spec.name)["Properties"]
    assert props["FunctionName"] == f"careloop-demo-{kebab(spec.name)}"
    assert props["Handler"] == "handler.handler"
    assert props["Runtime"] == bundling.RUNTIME.name == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Layers"] == [_ref(synth, stack.layer)]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == spec.timeout_s
    assert props["MemorySize"] == spec.memory_mb
    assert props.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    assert props["Role"] == _arn(synth, stack.roles[spec.name])

    env = props["Environment"]["Variables"]
    assert env["CARELOOP_PRACTICE_FILE"] == "/opt/python/careloop/data/practice.json"
    for logical in {*spec.reads, *spec.writes}:
        assert env[wiring.table_env(logical)] == _ref(synth, stack.tables[logical])
    untouched = {t.logical for t in tables.ALL_TABLES} - {*spec.reads, *spec.writes}
    if isinstance(spec.source, wiring.StreamSource):
        untouched.discard(spec.source.table)
    assert not {wiring.table_env(t) for t in untouched} & set(env)
    for logical in spec.sends_to:
        assert env[wiring.queue_env(logical)] == _ref(synth, stack.queues[logical])
    for logical in spec.publishes_to:
        assert env[wiring.topic_env(logical)] == _ref(synth, stack.topics[logical])
    for logical in spec.bucket_write:
        assert env[wiring.bucket_env(logical)] == _ref(synth, stack.ehr_bucket)
    sms_vars = {
        "CARELOOP_SMS_CONFIGURATION_SET",
        "CARELOOP_SMS_ORIGINATION_IDENTITY",
        "CARELOOP_SMS_OPT_OUT_LIST",
        "CARELOOP_SMS_PARTS_PER_SECOND",
    }
    assert (sms_vars <= set(env)) is spec.sms
    if isinstance(spec.source, wiring.ApiSource) and spec.source.auth == "hmac":
        assert env["CARELOOP_WEBHOOK_SECRET_ARN"] == "careloop/demo/webhook-secret"
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"  # responses carry PHI

    log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
    assert log_group["RetentionInDays"] > 0
    assert log_group["KmsKeyId"] == _key_arn(synth)


def test_core_layer_targets_the_function_platform(synth):
    layer = synth.resources[synth.logical_id(synth.build.stack.layer)]["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.14"]
    assert layer["CompatibleArchitectures"] == ["arm64"]


# --- event sources --------------------------------------------------------------------------------


def _mappings(synth, name: str) -> list[dict]:
    function_ref = _ref(synth, synth.build.stack.functions[name])
    return [
        m["Properties"]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == function_ref
    ]


@pytest.mark.parametrize(
    "spec", [f for f in wiring.FUNCTIONS if f.source.kind == "stream"], ids=lambda s: s.name
)
def test_stream_mapping_has_retry_limit_bisect_and_dlq(synth, spec):
    stack = synth.build.stack
    (mapping,) = _mappings(synth, spec.name)
    assert mapping["EventSourceArn"] == {
        "Fn::GetAtt": [synth.logical_id(stack.tables[spec.source.table]), "StreamArn"]
    }
    assert mapping["MaximumRetryAttempts"] == spec.source.retry_attempts
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == spec.source.batch_size
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == _arn(
        synth, stack.function_dlqs[spec.name]
    )


@pytest.mark.parametrize(
    "spec", [f for f in wiring.FUNCTIONS if f.source.kind == "queue"], ids=lambda s: s.name
)
def test_queue_mapping_reports_batch_item_failures(synth, spec):
    stack = synth.build.stack
    (mapping,) = _mappings(synth, spec.name)
    assert mapping["EventSourceArn"] == _arn(synth, stack.queues[spec.source.queue])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == spec.source.batch_size
    if spec.source.max_concurrency:
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": spec.source.max_concurrency}
    queue = synth.resources[synth.logical_id(stack.queues[spec.source.queue])]["Properties"]
    assert queue["VisibilityTimeout"] == spec.source.visibility_timeout_s >= spec.timeout_s
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": _arn(synth, stack.dlqs[spec.source.queue]),
        "maxReceiveCount": spec.source.max_receive_count,
    }


@pytest.mark.parametrize(
    "spec",
    [f for f in wiring.FUNCTIONS if f.source.kind == "queue" and f.source.fed_by_topic],
    ids=lambda s: s.name,
)
def test_topic_feeds_queue_with_sns_envelope(synth, spec):
    stack = synth.build.stack
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "RawMessageDelivery": False,
            "TopicArn": _ref(synth, stack.topics[spec.source.fed_by_topic]),
            "Endpoint": _arn(synth, stack.queues[spec.source.queue]),
        },
    )


def test_every_queue_is_encrypted_tls_only_and_dead_lettered(synth):
    queues = synth.of_type("AWS::SQS::Queue")
    policies = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()]
    dead_letter_targets = {
        json.dumps(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    } | {json.dumps(_arn(synth, q)) for q in synth.build.stack.function_dlqs.values()}
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        assert props["KmsMasterKeyId"] == _key_arn(synth), logical_id
        is_dlq = json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}) in dead_letter_targets
        assert is_dlq or "RedrivePolicy" in props, f"{logical_id} has no DLQ and is none"
        tls_only = [
            s
            for p in policies
            if {"Ref": logical_id} in p["Queues"]
            for s in p["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert tls_only, f"{logical_id} accepts plain HTTP"


def test_dispatcher_runs_every_minute_with_dlq(synth):
    stack = synth.build.stack
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": _arn(synth, stack.functions["dispatcher"]),
                        "DeadLetterConfig": {"Arn": _arn(synth, stack.function_dlqs["dispatcher"])},
                        "RetryPolicy": Match.object_like(
                            {"MaximumRetryAttempts": Match.any_value()}
                        ),
                    }
                )
            ],
        },
    )
    dispatcher = _function(synth, "dispatcher")["Properties"]
    assert dispatcher["DeadLetterConfig"] == {
        "TargetArn": _arn(synth, stack.function_dlqs["dispatcher"])
    }


# --- API --------------------------------------------------------------------------------------------


def _method(synth, path: str, http_method: str) -> dict:
    api = synth.build.stack.api
    resource = api.root.resource_for_path(path)
    return synth.resources[synth.logical_id(resource.node.find_child(http_method.upper()))][
        "Properties"
    ]


def test_ehr_routes_have_no_authorizer(synth):
    ehr = wiring.by_name("ehr_webhook")
    for route in ehr.source.routes:
        method = _method(synth, route.path, route.method)
        assert method["HttpMethod"] == route.method
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "RequestValidatorId" in method


def test_staff_api_requires_cognito(synth):
    stack = synth.build.stack
    method = _method(synth, "/api/{proxy+}", "ANY")
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert method["AuthorizerId"] == _ref(synth, stack.authorizer)
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "COGNITO_USER_POOLS",
            "ProviderARNs": [_arn(synth, stack.user_pool)],
        },
    )
    options = _method(synth, "/api/{proxy+}", "OPTIONS")  # CORS preflight carries no credentials
    assert options["Integration"]["Type"] == "MOCK"


def test_api_stage_logs_traces_and_throttles(synth):
    stage = synth.resources[synth.logical_id(synth.build.stack.api.deployment_stage)]["Properties"]
    assert stage["TracingEnabled"] is True
    assert "DestinationArn" in stage["AccessLogSetting"]
    # the stage default plus one entry per route (per-route throttles: test_least_privilege)
    assert stage["MethodSettings"][0]["ResourcePath"] == "/*"
    for settings in stage["MethodSettings"]:
        assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
        assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


# --- web front --------------------------------------------------------------------------------------


def test_cloudfront_serves_the_private_bucket_over_https_with_logging(synth):
    stack = synth.build.stack
    config = synth.resources[synth.logical_id(stack.distribution)]["Properties"][
        "DistributionConfig"
    ]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "ResponseHeadersPolicyId" in config["DefaultCacheBehavior"]
    # the staff app's bucket; the other origin is the API stage for the booking page (test_booking_routes)
    (origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert len(config["Origins"]) == 2
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert config["Logging"]["Bucket"] == {
        "Fn::GetAtt": [synth.logical_id(stack.log_bucket), "RegionalDomainName"]
    }
    synth.template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": Match.object_like(
                {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}
            ),
        },
    )
    synth.template.has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "StrictTransportSecurity": Match.object_like({"Override": True}),
                            "ContentSecurityPolicy": Match.any_value(),
                        }
                    )
                }
            ),
        },
    )


@pytest.mark.parametrize("bucket", ["ehr_bucket", "web_bucket", "log_bucket"])
def test_buckets_are_private_versioned_and_tls_only(synth, bucket):
    construct = getattr(synth.build.stack, bucket)
    props = synth.resources[synth.logical_id(construct)]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    if bucket != "log_bucket":
        assert props["LoggingConfiguration"]["DestinationBucketName"] == _ref(
            synth, synth.build.stack.log_bucket
        )
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": _ref(synth, construct),
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_ehr_bucket_uses_the_data_key(synth):
    props = synth.resources[synth.logical_id(synth.build.stack.ehr_bucket)]["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == _key_arn(synth)


def test_web_app_is_deployed_with_its_runtime_config(synth):
    stack = synth.build.stack
    (deployment,) = synth.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == _ref(synth, stack.web_bucket)
    assert props["DistributionPaths"] == ["/*"]
    markers = json.dumps(props["SourceMarkers"])  # config.json's deploy-time values
    for construct in (stack.user_pool, stack.user_pool_client, stack.api):
        assert synth.logical_id(construct) in markers


# --- identity --------------------------------------------------------------------------------------


def test_staff_user_pool_is_invite_only_with_mfa(synth):
    stack = synth.build.stack
    pool = synth.resources[synth.logical_id(stack.user_pool)]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON"
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(
        policy[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    client = synth.resources[synth.logical_id(stack.user_pool_client)]["Properties"]
    assert set(client["ExplicitAuthFlows"]) >= {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert client["GenerateSecret"] is False


# --- messaging --------------------------------------------------------------------------------------


def test_topics_are_encrypted_and_sms_voice_may_publish(synth):
    stack = synth.build.stack
    for name, topic in stack.topics.items():
        props = synth.resources[synth.logical_id(topic)]["Properties"]
        assert props["KmsMasterKeyId"] == _key_arn(synth), name
    for name in (tables.INBOUND_TOPIC, tables.SMS_EVENTS_TOPIC):
        synth.template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "Topics": [_ref(synth, stack.topics[name])],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "sms-voice.amazonaws.com"},
                                    "Action": "sns:Publish",
                                    "Condition": {
                                        "StringEquals": {
                                            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
                                        }
                                    },
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_staff_alerts_mail_the_profile_addresses(synth):
    stack = synth.build.stack
    for email in synth.build.profile.staff_emails:
        synth.template.has_resource_properties(
            "AWS::SNS::Subscription",
            {
                "Protocol": "email",
                "Endpoint": email,
                "TopicArn": _ref(synth, stack.topics[tables.STAFF_ALERTS_TOPIC]),
            },
        )


def test_sms_configuration_set_opt_out_list_and_two_way_number(synth):
    stack, profile = synth.build.stack, synth.build.profile
    synth.template.has_resource_properties(
        "AWS::SMSVOICE::ConfigurationSet",
        {
            "EventDestinations": [
                Match.object_like(
                    {
                        "Enabled": True,
                        "MatchingEventTypes": ["TEXT_ALL"],
                        "SnsDestination": {
                            "TopicArn": _ref(synth, stack.topics[tables.SMS_EVENTS_TOPIC])
                        },
                    }
                )
            ],
        },
    )
    synth.template.resource_count_is("AWS::SMSVOICE::OptOutList", 1)
    number = synth.resources[synth.logical_id(stack.sms.phone_number)]["Properties"]
    assert number["NumberType"] == profile.sms.number_type
    assert number["IsoCountryCode"] == profile.sms.country
    assert number["TwoWay"] == {
        "Enabled": True,
        "ChannelArn": _ref(synth, stack.topics[tables.INBOUND_TOPIC]),
    }
    assert number["OptOutListName"] == {"Ref": synth.logical_id(stack.sms.opt_out_list)}
    for keyword in ("STOP", "HELP"):
        assert profile.name in number["MandatoryKeywords"][keyword]["Message"]
    sender = _function(synth, "sms_sender")["Properties"]["Environment"]["Variables"]
    assert sender["CARELOOP_SMS_ORIGINATION_IDENTITY"] == _arn(synth, stack.sms.phone_number)


def test_outputs(synth):
    assert {"ApiUrl", "WebUrl", "UserPoolId", "UserPoolClientId", "SmsOriginationIdentity"} <= set(
        synth.outputs
    )


# --- IAM ----------------------------------------------------------------------------------------------


def _all_statements(synth):
    for logical_id, resource in synth.resources.items():
        props = resource["Properties"]
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            yield logical_id, props["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield logical_id, policy["PolicyDocument"]["Statement"]


def test_no_iam_policy_grants_a_whole_service(synth):
    for logical_id, statements in _all_statements(synth):
        for statement in statements:
            for action in _actions(statement):
                assert action != "*" and not action.endswith(":*"), f"{logical_id}: {action}"


@pytest.mark.parametrize("spec", wiring.FUNCTIONS, ids=lambda s: s.name)
def test_function_policy_is_spelled_out_and_scoped_to_its_wiring(synth, spec):
    document = _policy_document(synth, spec.name)
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in _actions(statement)), statement
        if statement["Resource"] == "*":
            assert set(_actions(statement)) <= {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "dynamodb:ListStreams",
            }
    text = json.dumps(document)
    stack = synth.build.stack
    touched = {*spec.reads, *spec.writes}
    if isinstance(spec.source, wiring.StreamSource):
        touched.add(spec.source.table)
    for logical, table in stack.tables.items():
        assert (synth.logical_id(table) in text) is (logical in touched), logical
    consumed = {spec.source.queue} if isinstance(spec.source, wiring.QueueSource) else set()
    for logical, queue in stack.queues.items():
        assert (synth.logical_id(queue) in text) is (logical in {*spec.sends_to, *consumed}), (
            logical
        )
    for logical, topic in stack.topics.items():
        assert (synth.logical_id(topic) in text) is (logical in spec.publishes_to), logical
    assert (synth.logical_id(stack.ehr_bucket) in text) is bool(spec.bucket_write)


def test_each_function_has_its_own_role(synth):
    roles = {
        json.dumps(_function(synth, spec.name)["Properties"]["Role"]) for spec in wiring.FUNCTIONS
    }
    assert len(roles) == len(wiring.FUNCTIONS)


def _allows(synth, name: str, action: str) -> bool:
    return any(action in _actions(s) for s in _policy_document(synth, name)["Statement"])


def test_sms_sender_can_send_sms_and_the_planner_cannot(synth):
    for action in (
        "sms-voice:SendTextMessage",
        "sms-voice:PutOptedOutNumber",
        "sms-voice:DeleteOptedOutNumber",
        "sms-voice:DescribeOptedOutNumbers",
    ):
        assert _allows(synth, "sms_sender", action)
        assert not _allows(synth, "planner", action)
    send = next(
        s
        for s in _policy_document(synth, "sms_sender")["Statement"]
        if "sms-voice:SendTextMessage" in _actions(s)
    )
    stack = synth.build.stack
    assert _arn(synth, stack.sms.phone_number) in send["Resource"]
    assert _arn(synth, stack.sms.configuration_set) in send["Resource"]
    for spec in wiring.FUNCTIONS:  # only the send queue's consumer texts (test_least_privilege)
        assert _allows(synth, spec.name, "sms-voice:SendTextMessage") is (spec.name == "sms_sender"), spec.name
        assert _allows(synth, spec.name, "sms-voice:PutOptedOutNumber") is spec.sms, spec.name


def test_urgent_alerts_page_the_on_call_phone_only(synth):
    # Given the demo profile's on-call phone, Then the staff topic pages it for urgent alerts only
    synth.template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "sms",
        "Endpoint": "+16175550188",
        "FilterPolicy": {"priority": ["urgent"]},
    })


def test_careloop_answers_stop_and_help_itself(synth):
    # the ledger, the one-confirmation rule and Spanish/free-text opt-outs live in Careloop: AWS's
    # automatic keyword replies would double them, so the number is self-managed (as locally)
    synth.template.has_resource_properties("AWS::SMSVOICE::PhoneNumber", {"SelfManagedOptOutsEnabled": True})
