"""CDK template and cdk-nag tests (marker: infra)."""

import os

# Before jsii starts (first aws_cdk import): its Node 20 end-of-life banner is noise.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
