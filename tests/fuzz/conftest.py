"""The fuzz suite's fixed budget: a Hypothesis profile `make test` runs (few examples, no deadline,
derandomised so CI is repeatable); CARELOOP_FUZZ=explore keeps looking with random seeds."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# ~60 examples a property keeps the whole fuzz suite well inside a minute on 2 cores; a crasher
# it ever finds goes into tests/fuzz/crashers/ and is replayed on every run
settings.register_profile(
    "fuzz-ci", max_examples=int(os.environ.get("CARELOOP_FUZZ_EXAMPLES", "60")), deadline=None, derandomize=True,
    database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
                           HealthCheck.filter_too_much],
)
settings.register_profile(
    "fuzz-explore", parent=settings.get_profile("fuzz-ci"), derandomize=False,
    max_examples=int(os.environ.get("CARELOOP_FUZZ_EXAMPLES", "2000")),
)
FUZZ = settings.get_profile("fuzz-explore" if os.environ.get("CARELOOP_FUZZ") == "explore" else "fuzz-ci")
