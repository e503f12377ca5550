"""Workflows as data: the rule format ("when X, after Y, if conditions, do Z"), its validation,
and the default library that every practice starts with."""

from careloop.workflows.model import (  # noqa: F401
    Action,
    Condition,
    Step,
    Timing,
    Trigger,
    Workflow,
    default_library,
    load_workflows,
)
