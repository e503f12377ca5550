"""The local stack's lifecycle guards (careloop_local.runtime), without starting moto: what a
caller gets from a stack that has not been started."""

from __future__ import annotations

import pytest

from careloop_local.runtime import LocalStack


def test_the_standin_of_a_stack_not_started_is_a_clear_error():
    # Given a stack that was built but not started
    stack = LocalStack()
    # When its SMS stand-in is asked for, Then the error says to start it (not None.outbox())
    with pytest.raises(RuntimeError, match="not started"):
        _ = stack.standin


def test_stopping_a_stack_never_started_does_nothing():
    # Given a stack that was built but not started, When it is stopped, Then nothing fails
    LocalStack().stop()
