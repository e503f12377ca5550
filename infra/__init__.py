"""The CDK side of Careloop: one stack per practice, generated from careloop.wiring and
careloop.tables, checked by cdk-nag (AwsSolutions + HIPAA Security) on every synth."""

import os

# jsii prints a Node-version banner on every start under Node 20; silence it before any infra
# module imports aws_cdk (which starts jsii).
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
