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


def pytest_collection_modifyitems(items):
    """schemathesis (4.32) makes one item per API operation, named `test[GET /x]`, but pytest 9
    builds an item's node id from its original name and parametrisation only: every operation of
    a schema got one id, and pytest-xdist (`make test`) ran just one of them. Each item gets its
    operation as its id's parameters (test_schemathesis.py's last test fails if this breaks)."""
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and node_id.params is None:
            item._id = node_id.with_params(label)
