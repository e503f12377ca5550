"""The local stack: moto's server + the End User Messaging stand-in, bootstrapped from the same
table specs and wiring table as the CDK stack, and an event pump that feeds the real handlers.

Also owns the local clock: `advance()` moves time and runs everything that became due.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from careloop import tables, wiring
from careloop.clock import OffsetClock, use_clock
from careloop.roles import ROLES
from careloop_local import faults
from careloop_local.events import LambdaContext, scheduled_event, sqs_event, stream_event
from careloop_local.faults import ProcessKilled

if TYPE_CHECKING:  # imported for real on start only (see _atomic_dynamo_moto_server)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from careloop_local.connect_standin import ConnectServer, ConnectStandin
    from careloop_local.lex_standin import LexServer, LexStandin
    from careloop_local.sms_standin import SmsStandin, StandinServer

# What a handler module's `handler` is: Lambda's (event, context) -> response.
Handler = Callable[[dict, LambdaContext], Any]

ROOT = Path(__file__).resolve().parents[3]  # repo root (layers/local/careloop_local -> ..)
FUNCTIONS_DIR = ROOT / "functions"
DEMO_STAFF_EMAIL = "staff@maple.example"  # the admin: the one the README and older tests sign in as
DEMO_STAFF_PASSWORD = "Careloop-demo-1!"
# one demo user per role (careloop.roles), all with DEMO_STAFF_PASSWORD; `careloop local` prints them
DEMO_STAFF_BY_ROLE = {
    "admin": DEMO_STAFF_EMAIL,
    "front_desk": "frontdesk@maple.example",
    "clinical": "clinical@maple.example",
    "billing": "billing@maple.example",
}
REGION = "us-east-1"
# The function the wiring table's contact-event rule feeds (Amazon Connect -> EventBridge -> it).
VOICE_EVENTS_FUNCTION = "voice_events"
LEX_BOT_ID, LEX_ALIAS_ID = "CARELOOPBT", "TSTALIASID"

log = logging.getLogger("careloop_local")


@dataclass
class Resources:
    tables: dict[str, str] = field(default_factory=dict)  # logical -> name
    streams: dict[str, str] = field(default_factory=dict)  # logical -> stream ARN
    queues: dict[str, str] = field(default_factory=dict)  # logical -> URL
    queue_arns: dict[str, str] = field(default_factory=dict)
    dlqs: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)  # logical -> ARN
    bucket: str = ""
    user_pool_id: str = ""
    client_id: str = ""
    phone_number: str = ""
    phone_number_id: str = ""
    configuration_set: str = ""
    opt_out_list: str = ""
    rule_arn: str = ""
    # Amazon Connect contact events: moto's EventBridge rule, and the queue standing in for its
    # Lambda target (the pump invokes the function with each event, as Lambda's async invoke does)
    contact_event_rule: str = ""
    contact_event_queue: str = ""


class LocalStack:
    def __init__(self, practice_file: Path | None = None, webhook_secret: str | None = None,
                 parts_per_second: float = 50.0) -> None:
        self.practice_file = practice_file or ROOT / "practices" / "demo.json"
        self.webhook_secret = webhook_secret or os.environ.get("CARELOOP_WEBHOOK_SECRET", "local-dev-secret")
        self.parts_per_second = parts_per_second
        self.res = Resources()
        self.clock = OffsetClock()
        self._lock = threading.RLock()  # one handler invocation at a time, like one container
        self._pump_lock = threading.Lock()  # one pump pass at a time (see pump_once)
        self._handlers: dict[str, Handler] = {}
        self._modules: dict[str, Any] = {}  # handler name -> its module (handler_module)
        self._iterators: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.moto: ThreadedMotoServer | None = None
        self._standin_server: StandinServer | None = None
        self._connect_server: ConnectServer | None = None
        self._lex_server: LexServer | None = None
        self.lex_url = ""
        self._lex_client: Any = None
        self.dead_letters: list[dict] = []
        self.crashes: list[dict] = []  # invocations that died (fault injection): function, records
        self.faults = faults.plan()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._stream_read: dict[str, int] = {}  # records the pump has read from each table's stream

    # lifecycle ---------------------------------------------------------------------------
    def start(self, ticker: bool = True) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_SERVICE_NAME": "careloop", "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Careloop",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }.items():
            os.environ[name] = value
        self.moto = _atomic_dynamo_moto_server(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = self.moto_url

        from careloop_local.sms_standin import serve

        use_clock(self.clock)
        self._standin_server, _, self.standin_url = serve(
            host="127.0.0.1", port=0, parts_per_second=self.parts_per_second, clock=self.clock
        )
        os.environ["AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2"] = self.standin_url
        self._start_voice_standins()
        self._bootstrap()
        self._configure_env()
        faults.install()  # an empty plan changes nothing; tests and --faults arm it
        if ticker:
            self._spawn(self._pump_loop, "pump")
            self._spawn(self._ticker_loop, "ticker")
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        if self._standin_server is not None:
            self._standin_server.shutdown()
        for server in (self._connect_server, self._lex_server):
            if server is not None:
                server.shutdown()
        if self.moto is not None:
            self.moto.stop()

    @property
    def standin(self) -> SmsStandin:
        """The End User Messaging stand-in of the started stack."""
        if self._standin_server is None:
            raise RuntimeError("the local stack is not started: call start() first")
        return self._standin_server.standin

    @property
    def connect(self) -> ConnectStandin:
        """The Amazon Connect stand-in (DescribeContact, contact events) of the started stack."""
        if self._connect_server is None:
            raise RuntimeError("the local stack is not started: call start() first")
        return self._connect_server.standin

    @property
    def lex(self) -> LexStandin:
        """The Lex V2 runtime stand-in (RecognizeText) of the started stack."""
        if self._lex_server is None:
            raise RuntimeError("the local stack is not started: call start() first")
        return self._lex_server.standin

    def lex_runtime(self) -> Any:
        """A `lexv2-runtime` client against the stand-in, made once (what Connect's bot block calls)."""
        if self._lex_client is None:
            self._lex_client = self._client("lexv2-runtime")
        return self._lex_client

    def _start_voice_standins(self) -> None:
        """Connect and the Lex V2 runtime, which moto lacks: Connect's contact events go to
        EventBridge (moto) like AWS's; Lex calls the voice function as its code hook."""
        from careloop.settings import get_settings
        from careloop_local import connect_standin, lex_standin

        self._connect_server, _, connect_url = connect_standin.serve(
            host="127.0.0.1", port=0, clock=self.clock, sink=self.put_contact_event)
        os.environ["AWS_ENDPOINT_URL_CONNECT"] = connect_url
        lex = lex_standin.LexStandin(code_hook=lambda event: self.invoke("voice", event),
                                     practice=lambda: get_settings().practice(), clock=self.clock,
                                     bot_id=LEX_BOT_ID, alias_id=LEX_ALIAS_ID, on_turn=self._after_lex_turn)
        self._lex_server, _, self.lex_url = lex_standin.serve(lex)
        os.environ["AWS_ENDPOINT_URL_LEX_RUNTIME_V2"] = self.lex_url

    def _after_lex_turn(self, session_id: str, answer: dict) -> None:
        """What the contact flow does after each bot turn: copy the outcome into the contact
        attributes, and put the caller through to the front desk when the bot transferred them."""
        attributes = (answer.get("sessionState") or {}).get("sessionAttributes") or {}
        outcome = attributes.get("careloopOutcome")
        contact = self.connect.get_contact(session_id)
        if contact is None or not outcome:
            return
        self.connect.update_attributes(session_id, {"careloopOutcome": outcome})
        if outcome == "transferred" and not contact.get("AgentInfo"):
            self.connect.connect_agent(session_id)

    def put_contact_event(self, event: dict) -> None:
        """Connect publishes a contact event to the default bus (moto's EventBridge), whose rule
        passes the matching ones on to the voice-events function."""
        from careloop.voice.contact import lenient_json, lower_keys

        keys = lower_keys({k: v for k, v in event.items() if k != "detail"})
        detail = event.get("detail") if "detail" in event else next(
            (v for k, v in event.items() if k.lower() == "detail"), None)
        if not isinstance(keys.get("source"), str) or not isinstance(keys.get("detail-type"), str):
            raise ValueError("event: an EventBridge event needs source and detail-type")
        if isinstance(detail, str):  # already the JSON string PutEvents takes
            detail = lenient_json(detail)
        if not isinstance(detail, dict):
            raise ValueError("event.detail: an EventBridge event needs a detail object")
        entry = {"Source": keys["source"], "DetailType": keys["detail-type"], "Detail": json.dumps(detail),
                 "Resources": [r for r in keys.get("resources") or [] if isinstance(r, str)]}
        result = self._client("events").put_events(Entries=[entry])
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the contact event: {result['Entries'][0].get('ErrorMessage')}")

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=f"careloop-{name}", daemon=True)
        t.start()
        self._threads.append(t)

    # bootstrap ---------------------------------------------------------------------------
    def _client(self, service: str):
        """One boto3 client per service for the stack's life: the pump asks for its SQS and
        Streams clients on every pass, and a new client costs more than the pass (its model
        loaded, a fresh connection pool); boto3 clients are safe to share between threads."""
        with self._clients_lock:
            if service not in self._clients:
                import boto3

                self._clients[service] = boto3.client(service, region_name=REGION)
            return self._clients[service]

    def _bootstrap(self) -> None:
        from careloop.practice import load_profile

        practice = load_profile(self.practice_file)
        prefix = f"careloop-{practice.id}"
        ddb = self._client("dynamodb")
        for spec in tables.ALL_TABLES:
            name = f"{prefix}-{spec.logical}"
            attrs = {spec.partition_key, *(k for k in [spec.sort_key] if k)}
            keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
            if spec.sort_key:
                keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
            gsis = []
            for ix in spec.indexes:
                ks = [{"AttributeName": ix.partition_key, "KeyType": "HASH"}]
                attrs.add(ix.partition_key)
                if ix.sort_key:
                    ks.append({"AttributeName": ix.sort_key, "KeyType": "RANGE"})
                    attrs.add(ix.sort_key)
                gsis.append({"IndexName": ix.name, "KeySchema": ks, "Projection": {"ProjectionType": "ALL"}})
            args = {
                "TableName": name, "KeySchema": keys, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
                "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            }
            if gsis:
                args["GlobalSecondaryIndexes"] = gsis
            if spec.stream:
                args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            desc = ddb.create_table(**args)["TableDescription"]
            self.res.tables[spec.logical] = name
            if spec.stream:
                self.res.streams[spec.logical] = desc["LatestStreamArn"]

        sqs, sns = self._client("sqs"), self._client("sns")
        for topic in wiring.topics():
            self.res.topics[topic] = sns.create_topic(Name=f"{prefix}-{topic}")["TopicArn"]
        for name, source in wiring.queues().items():
            dlq = sqs.create_queue(QueueName=f"{prefix}-{name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(QueueName=f"{prefix}-{name}", Attributes={
                # short locally so a failed record is retried within seconds
                "VisibilityTimeout": "2",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(source.max_receive_count)}),
            })["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.res.queues[name], self.res.queue_arns[name], self.res.dlqs[name] = url, arn, dlq
            if source.fed_by_topic:
                sns.subscribe(TopicArn=self.res.topics[source.fed_by_topic], Protocol="sqs", Endpoint=arn)

        s3 = self._client("s3")
        self.res.bucket = f"{prefix}-ehr"
        s3.create_bucket(Bucket=self.res.bucket)

        idp = self._client("cognito-idp")
        self.res.user_pool_id = idp.create_user_pool(PoolName=f"{prefix}-staff")["UserPool"]["Id"]
        self.res.client_id = idp.create_user_pool_client(
            UserPoolId=self.res.user_pool_id, ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        for role in ROLES:  # the pool's groups, as infra/web.py declares them
            idp.create_group(UserPoolId=self.res.user_pool_id, GroupName=role)
        for role, email in DEMO_STAFF_BY_ROLE.items():
            idp.admin_create_user(UserPoolId=self.res.user_pool_id, Username=email,
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": "true"}],
                                  MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=self.res.user_pool_id, Username=email,
                                        Password=DEMO_STAFF_PASSWORD, Permanent=True)
            idp.admin_add_user_to_group(UserPoolId=self.res.user_pool_id, Username=email, GroupName=role)

        # End User Messaging SMS, through its API (the stand-in), as the stack declares it
        sms = self._client("pinpoint-sms-voice-v2")
        self.res.configuration_set = f"{prefix}-config"
        sms.create_configuration_set(ConfigurationSetName=self.res.configuration_set)
        sms.create_event_destination(
            ConfigurationSetName=self.res.configuration_set, EventDestinationName="careloop-events",
            MatchingEventTypes=["ALL"],
            SnsDestination={"TopicArn": self.res.topics[tables.SMS_EVENTS_TOPIC]},
        )
        self.res.opt_out_list = f"{prefix}-optout"
        sms.create_opt_out_list(OptOutListName=self.res.opt_out_list)
        number = sms.request_phone_number(
            IsoCountryCode="US", MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
            NumberType="TEN_DLC", OptOutListName=self.res.opt_out_list,
        )
        self.res.phone_number, self.res.phone_number_id = number["PhoneNumber"], number["PhoneNumberId"]
        sms.update_phone_number(
            PhoneNumberId=self.res.phone_number_id, TwoWayEnabled=True,
            TwoWayChannelArn=self.res.topics[tables.INBOUND_TOPIC], SelfManagedOptOutsEnabled=True,
        )
        self.res.rule_arn = f"arn:aws:events:{REGION}:123456789012:rule/{prefix}-dispatcher-every-minute"
        self._bootstrap_contact_events(prefix, sqs)

    def _bootstrap_contact_events(self, prefix: str, sqs) -> None:
        """The contact-event rule of the wiring table on the default bus; its target is a queue
        here (the pump invokes the function from it) where AWS's is the function itself."""
        source = self._contact_event_source()
        pattern = source.pattern(self.connect.instance_arn)
        # One Connect stand-in stands for the practice's instance, and /dev/connect/event takes
        # events as AWS publishes them, AWS's own samples of other instances included: locally
        # the rule matches every instance.
        pattern["detail"].pop("instanceArn", None)
        events = self._client("events")
        self.res.contact_event_rule = f"{prefix}-connect-contact-events"
        events.put_rule(Name=self.res.contact_event_rule, EventPattern=json.dumps(pattern), State="ENABLED")
        url = sqs.create_queue(QueueName=f"{prefix}-connect-contact-events-target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_targets(Rule=self.res.contact_event_rule, Targets=[{"Id": VOICE_EVENTS_FUNCTION, "Arn": arn}])
        self.res.contact_event_queue = url

    @staticmethod
    def _contact_event_source() -> wiring.ContactEventSource:
        source = wiring.by_name(VOICE_EVENTS_FUNCTION).source
        if not isinstance(source, wiring.ContactEventSource):
            raise RuntimeError(f"the wiring table's {VOICE_EVENTS_FUNCTION} does not listen to contact events")
        return source

    def _configure_env(self) -> None:
        env = {wiring.table_env(k): v for k, v in self.res.tables.items()}
        env |= {wiring.queue_env(k): v for k, v in self.res.queues.items()}
        env |= {wiring.topic_env(k): v for k, v in self.res.topics.items()}
        env[wiring.bucket_env(tables.EHR_BUCKET)] = self.res.bucket
        env |= {
            "CARELOOP_PRACTICE_FILE": str(self.practice_file),
            "CARELOOP_SMS_CONFIGURATION_SET": self.res.configuration_set,
            "CARELOOP_SMS_ORIGINATION_IDENTITY": self.res.phone_number_id,
            "CARELOOP_SMS_OPT_OUT_LIST": self.res.opt_out_list,
            "CARELOOP_SMS_PARTS_PER_SECOND": str(self.parts_per_second),
            "CARELOOP_WEBHOOK_SECRET": self.webhook_secret,
            "CARELOOP_LOCAL_MODE": "true",
            # the import worker gives the one local "container" back every few seconds (the web app,
            # the webhook and the other queues wait on it meanwhile), queueing its job on
            "CARELOOP_EHR_IMPORT_SLICE_S": os.environ.get("CARELOOP_EHR_IMPORT_SLICE_S", "3"),
            "CARELOOP_STAFF_USER_POOL_ID": self.res.user_pool_id,
            # personal booking links point at the local HTTP front (`careloop local --port`)
            "CARELOOP_BOOKING_BASE_URL": os.environ.get("CARELOOP_BOOKING_BASE_URL")
            or f"http://127.0.0.1:{os.environ.get('CARELOOP_PORT', '8000')}",
        }
        os.environ.update(env)
        from careloop.adapters import aws
        from careloop.settings import reset_settings

        reset_settings()
        aws.reset()

    def rotate_webhook_secret(self, new: str | None = None, overlap_hours: float = 24.0):
        """What `careloop ehr rotate-secret` does to Secrets Manager in AWS, on the local stack's
        CARELOOP_WEBHOOK_SECRET: `new` (default: generated) becomes current, the old one stays
        valid for `overlap_hours`. -> the WebhookSecrets now in force."""
        import secrets as token_source
        from datetime import UTC, datetime, timedelta

        from careloop.ehr.signing import rotated
        from careloop.settings import reset_settings

        if not 0 <= overlap_hours <= 24 * 30:
            raise ValueError("overlap_hours: 0 to 720 hours")
        with self._lock:
            now = datetime.now(UTC)  # signatures are checked on the wall clock, not the stack's moved one
            secrets = rotated(os.environ.get("CARELOOP_WEBHOOK_SECRET", self.webhook_secret),
                              new or token_source.token_urlsafe(36), now, timedelta(hours=overlap_hours))
            self.webhook_secret = secrets.to_json()
            os.environ["CARELOOP_WEBHOOK_SECRET"] = self.webhook_secret
            reset_settings()
        return secrets

    # handlers ----------------------------------------------------------------------------
    def handler(self, name: str) -> Handler:
        if name not in self._handlers:
            path = FUNCTIONS_DIR / name / "handler.py"
            spec = importlib.util.spec_from_file_location(f"careloop_fn_{name}", path)
            if spec is None or spec.loader is None:
                raise RuntimeError(f"cannot load the handler module of {name!r} from {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self._handlers[name] = module.handler
            self._modules[name] = module
        return self._handlers[name]

    def handler_module(self, name: str) -> Any:
        """The module this stack's handler came from: another stack in the same process imports
        its own copy under the same name, so `sys.modules` may hold a different one."""
        self.handler(name)
        return self._modules[name]

    def invoke(self, name: str, event: dict) -> dict:
        with self._lock:
            return self._call(name, event)

    def _call(self, name: str, event: dict) -> dict:
        """One invocation, as its own "process" for the fault plan (a kill ends with it)."""
        spec = wiring.by_name(name)
        handler = self.handler(name)
        with self.faults.invocation(name, sys.modules.get(f"careloop_fn_{name}")):
            return handler(event, LambdaContext(name, spec.memory_mb, spec.timeout_s))

    # the event pump ----------------------------------------------------------------------
    def _stream_iterators(self, logical: str) -> list[str]:
        if logical not in self._iterators:
            ds = self._client("dynamodbstreams")
            arn = self.res.streams[logical]
            shards = ds.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            self._iterators[logical] = [
                ds.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                for s in shards
            ]
        return self._iterators[logical]

    def pump_once(self) -> int:
        """One pass over every stream and queue in the wiring table; returns records handled.
        One pass at a time: a `drain()` that finds nothing while the background pump is still
        inside a handler would otherwise call the stack quiet with a reply on its way."""
        with self._pump_lock:
            return self._pump_pass()

    def _pump_pass(self) -> int:
        handled = 0
        ds = self._client("dynamodbstreams")
        sqs = self._client("sqs")
        for spec in wiring.FUNCTIONS:
            src = spec.source
            if isinstance(src, wiring.StreamSource):
                iterators = self._stream_iterators(src.table)
                arn = self.res.streams[src.table]
                if len(iterators) == 1 and _stream_records(arn) == self._stream_read.get(src.table):
                    continue  # nothing written since the last read (moto's shard, in this process)
                for i, it in enumerate(iterators):
                    got = ds.get_records(ShardIterator=it, Limit=src.batch_size)
                    iterators[i] = got.get("NextShardIterator") or it
                    if got["Records"]:
                        handled += len(got["Records"])
                        self._stream_read[src.table] = self._stream_read.get(src.table, 0) + len(got["Records"])
                        self._deliver_stream(spec, src, got["Records"])
            elif isinstance(src, wiring.QueueSource):
                handled += self._pump_queue(spec, src, sqs)
        handled += self._pump_contact_events(sqs)
        return handled

    def _pump_queue(self, spec: wiring.FunctionSpec, src: wiring.QueueSource, sqs) -> int:
        """One receive from a queue into its function; the messages it did not fail are deleted."""
        url = self.res.queues[src.queue]
        if not _may_have_messages(url):
            return 0
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(src.batch_size, 10),
                                  AttributeNames=["All"], MessageAttributeNames=["All"])
        messages = got.get("Messages", [])
        if messages:
            event = sqs_event(messages, self.res.queue_arns[src.queue])
            failed = self._deliver_queue_batch(spec.name, src.queue, event)
            if failed is None:  # the invocation died: nothing acknowledged, all of it comes back
                self._crashed(spec.name, len(messages))
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                    # Lambda's retry waits out the visibility timeout; locally it comes back at once
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)])
                return len(messages)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        return len(messages)

    def _deliver_queue_batch(self, function: str, queue: str, event: dict) -> set[str] | None:
        """The batch to its function -> the ids it failed, None when the invocation died. With
        duplicate deliveries armed (the fault plan) it goes twice, the copies at once if asked:
        a message counts as done when either copy did it, as when SQS hands it out twice."""
        copies = 2 if queue in self.faults.duplicate_queues else 1
        at_once = copies > 1 and self.faults.duplicate_queues[queue]  # two "containers", no shared lock
        outcomes: list[set[str] | None] = []

        def one() -> None:
            try:
                result = (self._call(function, event) if at_once else self.invoke(function, event)) or {}
                outcomes.append({f["itemIdentifier"] for f in result.get("batchItemFailures", [])})
            except ProcessKilled:
                outcomes.append(None)
        if at_once:
            threads = [threading.Thread(target=one) for _ in range(copies)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            for _ in range(copies):
                one()
        survived = [o for o in outcomes if o is not None]
        if not survived:
            return None
        return set.intersection(*survived)

    def _crashed(self, function: str, records: int) -> None:
        self.crashes.append({"function": function, "records": records})

    def drain_queue(self, function: str, timeout: float = 600.0) -> int:
        """Pump one queue consumer of the wiring table until its queue is empty (a large EHR
        payload's job, without waiting on the planner's stream) -> messages handled."""
        spec = wiring.by_name(function)
        if not isinstance(spec.source, wiring.QueueSource):
            raise ValueError(f"{function} does not consume a queue")
        sqs, handled, quiet = self._client("sqs"), 0, 0
        deadline = time.monotonic() + timeout
        while quiet < 2 and time.monotonic() < deadline:
            with self._pump_lock:
                n = self._pump_queue(spec, spec.source, sqs)
            handled += n
            quiet = quiet + 1 if n == 0 else 0
        return handled

    def _pump_contact_events(self, sqs) -> int:
        """EventBridge -> Lambda: the event itself is the payload; a failure is retried as the
        rule's target says, then the event goes to the dead letters (the rule's DLQ)."""
        if not self.res.contact_event_queue:
            return 0
        attempts = 1 + self._contact_event_source().retry_attempts
        if not _may_have_messages(self.res.contact_event_queue):
            return 0
        got = sqs.receive_message(QueueUrl=self.res.contact_event_queue, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        for m in messages:
            event = json.loads(m["Body"])
            for attempt in range(attempts):
                try:
                    self.invoke(VOICE_EVENTS_FUNCTION, event)
                    break
                except (Exception, ProcessKilled) as exc:  # the handler logged it (ids only); Lambda would retry
                    if attempt == attempts - 1:
                        self.dead_letters.append({"function": VOICE_EVENTS_FUNCTION, "event_id": event.get("id"),
                                                  "error": type(exc).__name__})
            sqs.delete_message(QueueUrl=self.res.contact_event_queue, ReceiptHandle=m["ReceiptHandle"])
        return len(messages)

    def _deliver_stream(self, spec, src, records: list[dict]) -> None:
        """Lambda's stream semantics: retry the failed tail up to the limit, then the DLQ."""
        pending = records
        for _attempt in range(src.retry_attempts + 1):
            try:
                result = self.invoke(spec.name, stream_event(pending, self.res.streams[src.table])) or {}
            except (Exception, ProcessKilled) as exc:  # failed or died: the whole batch again
                if not isinstance(exc, ProcessKilled):
                    log.warning("%s failed a stream batch: %s", spec.name, type(exc).__name__)
                self._crashed(spec.name, len(pending))
                continue
            failures = result.get("batchItemFailures", [])
            if not failures:
                return
            first = failures[0]["itemIdentifier"]
            pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] >= first] or pending
        self.dead_letters.append({"function": spec.name, "records": [r["eventID"] for r in pending]})

    def drain(self, timeout: float = 30.0, quiet_passes: int = 2) -> bool:
        """Pump until every stream and queue is empty `quiet_passes` times in a row (SNS fan-out is
        async) -> True, or False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            standin_busy = not self.standin.drain(0.5)
            if self.pump_once() == 0 and not standin_busy:
                quiet += 1
                if quiet >= quiet_passes:
                    return True
                time.sleep(0.05)
            else:
                quiet = 0
        return False

    def dispatch(self) -> dict:
        """One tick of the schedule; a tick that died (fault injection) is one the next tick makes up."""
        try:
            return self.invoke("dispatcher", scheduled_event(self.res.rule_arn, self.clock.now()))
        except (Exception, ProcessKilled) as exc:  # EventBridge retries it; the next minute's tick comes anyway
            if not isinstance(exc, ProcessKilled):
                log.warning("dispatcher tick failed: %s", type(exc).__name__)
            self._crashed("dispatcher", 0)
            return {"sent": 0, "skipped": 0, "deferred": 0, "lost": 0, "crashed": 1}

    # the clock ---------------------------------------------------------------------------
    def advance(self, minutes: float) -> dict:
        """Move the clock forward, stopping at every due time on the way, like the real
        every-minute schedule would have; returns what was dispatched."""
        from careloop.adapters.aws import services

        target = self.clock.now() + timedelta(minutes=minutes)
        totals = {"sent": 0, "skipped": 0, "deferred": 0, "ticks": 0}
        self.drain()
        for _ in range(10_000):
            due = services().actions.due_actions(target, limit=1)
            if not due:
                break
            self.clock.advance_to(due[0].due_at)
            summary = self.dispatch()
            totals["ticks"] += 1
            for k in ("sent", "skipped", "deferred"):
                totals[k] += summary.get(k, 0)
            self.drain()
            if not any(summary.get(k) for k in ("sent", "skipped", "deferred", "lost")):
                break  # nothing moved: do not spin on a claimed item
        self.clock.advance_to(target)
        summary = self.dispatch()
        for k in ("sent", "skipped", "deferred"):
            totals[k] += summary.get(k, 0)
        self.drain()
        return {**totals, "now": self.clock.now().isoformat()}

    # background loops --------------------------------------------------------------------
    def _pump_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.pump_once() == 0:
                    self._stop.wait(0.2)
            except Exception:  # keep the local stack alive; the error is shown once
                log.exception("event pump error")
                self._stop.wait(1.0)

    def _ticker_loop(self) -> None:
        while not self._stop.wait(60.0):
            try:
                self.dispatch()
            except Exception:
                log.exception("dispatcher tick error")

    # demo ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)


def _may_have_messages(queue_url: str) -> bool:
    """Whether moto's queue (in this process) holds a message a ReceiveMessage could return now.
    The pump polls every queue on every pass, and most passes find them empty: under load those
    empty polls were a third of all calls the stack made. A queue moto does not know, or a moto
    whose internals moved, is polled as before."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues.get(queue_url.rsplit("/", 1)[-1])
        if queue is None:
            return True
        return any(m.visible and not m.delayed for m in list(queue._messages))
    except Exception:  # noqa: BLE001 (an optimisation only: never a reason to miss a message)
        return True


def _stream_records(stream_arn: str) -> int | None:
    """How many records moto's one shard of this table's stream holds (None: unknown, so poll).
    Like `_may_have_messages`: an empty GetRecords on every pass of every stream is skipped."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        table = stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[table].stream_shard
        return None if shard is None else len(shard.items)
    except Exception:  # noqa: BLE001 (an optimisation only)
        return None


def _atomic_dynamo_moto_server(**kwargs: Any) -> ThreadedMotoServer:
    """moto's threaded server, with DynamoDB requests taken one at a time: DynamoDB makes each
    conditional write atomic, moto checks and then writes, so two request threads could both pass
    the same condition (two dispatcher ticks claiming one action) where AWS lets only one. Its
    Query reads only the matching items (careloop_local.motoindex), as DynamoDB's does."""
    # moto is imported here, on start, not with this module (the CLI's other commands never need it)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from careloop_local import motoindex

    motoindex.install()  # Query reads the matching items, not the whole table (see motoindex)

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            dynamo = threading.Lock()

            def serialised(environ, start_response):
                if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                    with dynamo:
                        return list(app(environ, start_response))
                return app(environ, start_response)

            self._server = make_server(self._ip_address, self._port, serialised, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(**kwargs)
