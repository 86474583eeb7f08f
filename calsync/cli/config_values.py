"""The values of a refresh config, one checker each: the value, or `InvalidValue` with
the message the user sees (a value that may be a secret is never echoed back)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from calsync.core.problems import InvalidValue

MAX_WEEKS = 52
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PASSWORD_INLINE = (
    "a password is never written in the config (it is often shared or committed): "
    "use password_file = a file readable by you only, password_env = the name of an "
    "environment variable, or keyring = true"
)
API_KEY_INLINE = (
    "an API key is never written in the config (it is often shared or committed): use "
    "api_key_file = a file readable by you only, api_key_env = the name of an environment "
    "variable, or keyring = true"
)


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"expected a string in quotes, got {describe(value)}")
    if not value.strip():
        raise InvalidValue("must not be empty")
    return value


def weeks(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"expected a whole number of weeks, got {describe(value)}")
    if not 1 <= value <= MAX_WEEKS:
        raise InvalidValue(f"must be between 1 and {MAX_WEEKS} weeks ahead, got {value}")
    return value


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        # Not echoed: `keyring = "hunter2"` is a password typed in the wrong place.
        raise InvalidValue(f"expected true or false, got {kind_of(value)}")
    return value


def names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidValue(f'expected a list of calendar names, e.g. ["{value}"]')
    if not isinstance(value, list):
        raise InvalidValue(f"expected a list of calendar names, got {describe(value)}")
    for item in value:
        string(item)
    return tuple(value)


def url(value: Any) -> str:
    text = string(value)
    parts = urlsplit(text)
    if parts.password is not None:
        raise InvalidValue(PASSWORD_INLINE)
    if not re.match(r"^https?://[^/\s]+", text):
        raise InvalidValue(f"expected an http:// or https:// address, got '{text}'")
    return text


def athlete(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else string(value)
    if not re.fullmatch(r"0|i?[0-9]+", text):
        raise InvalidValue(
            f"expected 0 (the API key's owner) or an athlete id like i12345, got '{text}'"
        )
    return text


def ride_type(value: Any) -> str:
    text = string(value)
    if text not in ("Ride", "VirtualRide"):
        raise InvalidValue(f"expected 'Ride' or 'VirtualRide', got '{text}'")
    return text


def sessions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidValue(
            f'expected a list of session names, e.g. ["intervals"], got {describe(value)}'
        )
    for item in value:
        string(item)
    return tuple(value)


def env_name(value: Any) -> str:
    text = string(value)
    if not ENV_NAME.match(text):
        # Not echoed: what is there instead of a name is often the password itself.
        raise InvalidValue(
            "expected the name of an environment variable (e.g. CALDAV_PASSWORD), not its value"
        )
    return text


def choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = string(value)
        if text not in choices:
            raise InvalidValue(
                f"unknown target type '{text}' (expected {' | '.join(repr(c) for c in choices)})"
            )
        return text

    return convert


def kind_of(value: Any) -> str:
    return "text" if isinstance(value, str) else describe(value)


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    kinds = {int: "a number", float: "a number", list: "a list", dict: "a table"}
    return kinds.get(type(value), type(value).__name__)
