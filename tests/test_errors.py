"""calsync/errors.py: one error tree, each class saying who raises it, and one exit-status rule."""

from __future__ import annotations

import inspect

import pytest

import calsync.errors as errors
from calsync.core.model import Level
from calsync.core.problems import Problem
from calsync.errors import (
    EXIT_CONFLICTS,
    EXIT_FAILURE,
    EXIT_OK,
    AuthRefused,
    BadInput,
    ConfigError,
    Failure,
    PlanError,
    RateLimited,
    Rejected,
    TargetError,
    Unreachable,
    exit_status,
    for_status,
)

ERROR, WARN = Level.ERROR.rank, Level.WARN.rank


def test_every_error_is_bad_input_or_a_failure_and_says_who_raises_it() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    exceptions = [c for c in classes if issubclass(c, Exception)]
    assert {BadInput, Failure, PlanError, ConfigError, TargetError} <= set(exceptions)
    for cls in exceptions:
        assert cls in (BadInput, Failure) or issubclass(cls, BadInput | Failure), cls
        assert cls.__doc__ and "raise" in cls.__doc__.lower(), cls
    assert {PlanError(problems=[]).exit_code, ConfigError([]).exit_code} == {2}
    assert {c(".").exit_code for c in (Unreachable, AuthRefused, RateLimited, Rejected)} == {1}


def test_a_plan_and_a_config_list_their_problems_by_line() -> None:
    found = ConfigError(
        [
            Problem("refresh.toml", 7, "weeks", "expected 1..52"),
            Problem("refresh.toml", 2, "plan", "no such file"),
        ]
    )
    assert [p.line for p in found.problems] == [2, 7]
    assert str(found).splitlines() == [str(p) for p in found.problems]
    assert not isinstance(found, PlanError)  # its own class, printed the same way


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, AuthRefused), (403, AuthRefused), (429, RateLimited), (400, Rejected), (503, Rejected)],
)
def test_an_http_status_is_one_kind_of_target_failure(status: int, kind: type) -> None:
    assert for_status(status) is kind


def test_a_failure_outranks_conflicts_which_outrank_nothing() -> None:
    assert exit_status() == EXIT_OK
    assert exit_status([WARN], ERROR) == EXIT_OK
    assert exit_status([WARN], WARN) == EXIT_CONFLICTS
    assert exit_status([WARN, ERROR], ERROR) == EXIT_CONFLICTS
    assert exit_status([ERROR], None) == EXIT_OK  # no --fail-on threshold: conflicts only report
    assert exit_status([ERROR], ERROR, failed=True) == EXIT_FAILURE
    assert exit_status([], ERROR, failed=True) == EXIT_FAILURE
