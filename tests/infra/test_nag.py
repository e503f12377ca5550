"""cdk-nag (AwsSolutions + HIPAA Security) gates every synth: the demo stack has no open finding,
every acknowledgement is used and explained, and the gate really fails on a new violation."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from infra import nag

pytestmark = pytest.mark.infra

INFRA = Path(nag.__file__).parent


def test_both_packs_ran_on_the_stack(synth):
    plugins = {p["pluginName"]: p for p in synth.report["pluginReports"]}
    for pack in nag.PACKS:
        assert pack in plugins, f"{pack} did not run"
        assert plugins[pack]["conclusion"] == "success"


def test_no_unacknowledged_finding_errors_or_warnings(synth):
    assert nag.unacknowledged(synth.report) == []
    assert synth.cdk_warnings == []  # CDK's own warnings are explained in infra/nag.py too


def test_every_acknowledgement_is_used_and_explained(synth):
    # CDK's own warnings (Annotation::) are dropped at the source once acknowledged, so they never
    # reach the report; test_oac_key_wildcard_warning_needs_its_acknowledgement covers that one.
    applied = {
        (a.path, a.rule)
        for a in synth.build.acknowledgements
        if not a.rule.startswith("Annotation::")
    }
    used = nag.used_acknowledgements(synth.report)
    assert applied - used == set(), "stale acknowledgements: the finding is gone, remove them"
    assert used - applied == set(), "acknowledgements made outside infra/nag.py"
    for ack in synth.build.acknowledgements:
        assert len(ack.reason) >= 40, ack


def test_oac_key_wildcard_warning_needs_its_acknowledgement(synth):
    """Given the web front's shape (KMS-encrypted bucket behind an OAC origin), CDK does warn."""
    stack = cdk.Stack(cdk.App(), "Scratch")
    bucket = s3.Bucket(stack, "Web", encryption=s3.BucketEncryption.KMS)
    cloudfront.Distribution(
        stack,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket)
        ),
    )

    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("a wildcard is used in the Key policy condition")
    )

    assert len(warnings) == 1
    acknowledged = {a.rule for a in synth.build.acknowledgements}
    assert "Annotation::@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac" in acknowledged
    web = synth.resources[synth.logical_id(synth.build.stack.web_bucket)]["Properties"]
    assert (
        web["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    )


def test_acknowledgements_live_only_in_nag_module():
    pattern = re.compile(r"Validations\.of\(.*\)\.acknowledge\(|Acknowledgment\(")
    offenders = [
        p.name for p in INFRA.glob("*.py") if p.name != "nag.py" and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_an_acknowledgement_needs_a_reason():
    stack = cdk.Stack(cdk.App(), "Scratch")
    with pytest.raises(ValueError, match="needs a real reason"):
        nag._Acks()(stack, "because", "AwsSolutions-S1")


def test_gate_fails_synth_on_an_unacknowledged_error(tmp_path):
    """Given the packs exactly as build_app applies them, when a stack gains an unencrypted,
    unlogged bucket, then synth fails and the report names the bucket and the rules."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Throwaway")
    s3.Bucket(stack, "Leaky")
    nag.apply_packs(app)

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()

    findings = nag.unacknowledged(nag.read_report(tmp_path / "cdk.out"))
    leaky = {f.rule for f in findings if f.path == "Throwaway/Leaky/Resource"}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "HIPAA.Security-S3DefaultEncryptionKMS"} <= leaky
    assert all(
        f.severity == "error" for f in findings if f.rule in {"AwsSolutions-S1", "AwsSolutions-S10"}
    )


def test_gate_passes_once_every_finding_is_acknowledged(tmp_path):
    """The same throwaway bucket synthesises once each finding carries a reason (and only then)."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Throwaway")
    bucket = s3.Bucket(stack, "Leaky")
    nag.apply_packs(app)
    rules = [
        "AwsSolutions-S1",
        "AwsSolutions-S10",
        "HIPAA.Security-S3BucketLoggingEnabled",
        "HIPAA.Security-S3BucketReplicationEnabled",
        "HIPAA.Security-S3BucketSSLRequestsOnly",
        "HIPAA.Security-S3BucketVersioningEnabled",
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "HIPAA.Security-S3BucketPublicReadProhibited",
        "HIPAA.Security-S3BucketPublicWriteProhibited",
    ]
    nag._Acks()(
        bucket, "a throwaway bucket that only exists inside this test, never deployed", *rules
    )

    app.synth()

    assert nag.unacknowledged(nag.read_report(tmp_path / "cdk.out")) == []
