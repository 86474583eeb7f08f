"""The refresh config: one TOML file naming the plan, the horizon and the targets.

Pure parsing into frozen dataclasses; every problem found is reported at once
as a `ConfigError` (an `InputProblems`, like the loader's `PlanError`, so the
command line prints them the same way and exits 2), each naming the file, a line and the key. tomllib gives a line
only for syntax errors, so for a bad value the line is found by scanning the
text for `key =` inside the right `[[target]]` block: best effort, and the key
is always named so the message stays useful when the scan misses.

    plan = "plan.yaml"          # relative to this file; ~ expanded
    weeks = 4                   # 1..52, from today

    [[target]]
    type = "ics"
    path = "~/public_html/training.ics"

    [[target]]
    type = "google"
    calendar = "Training"       # default: the plan's title
    busy = ["primary"]

    [[target]]
    type = "caldav"
    url = "https://caldav.fastmail.com/dav/calendars/user/me@fastmail.com/"
    username = "me@fastmail.com"
    password_file = "~/.config/calsync/fastmail-password"

    [[target]]
    type = "intervals"
    api_key_file = "~/.config/calsync/intervals-key"   # or api_key_env, or keyring = true
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from calsync.core.loader import InvalidValue, Problem, decode_text
from calsync.errors import ConfigError, PlanError
from calsync.targets.open import CalDAVTarget, GoogleTarget, IntervalsTarget

MAX_WEEKS = 52
DEFAULT_WEEKS = 4
TARGET_TYPES = ("ics", "google", "caldav", "intervals")
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


@dataclass(frozen=True)
class IcsTarget:
    name: str | None
    path: Path


Target = IcsTarget | GoogleTarget | CalDAVTarget | IntervalsTarget


@dataclass(frozen=True, kw_only=True)
class Config:
    plan: Path
    weeks: int = DEFAULT_WEEKS
    targets: tuple[Target, ...]
    source: Path  # the config file itself, absolute


# --- reading ------------------------------------------------------------------------


def load_config(path: Path | str) -> Config:
    """Read and check a refresh config; ConfigError naming the file on any problem."""
    path = Path(path).expanduser().absolute()
    try:
        data = path.read_bytes()
    except OSError as err:
        hint = " (write one: see `calsync refresh --help`)" if not path.exists() else ""
        raise ConfigError(
            [Problem(str(path), 1, "", f"cannot read the config: {err.strerror}{hint}")]
        ) from None
    return parse_config(data, path)


def parse_config(data: bytes | str, source: Path) -> Config:
    """The pure half of `load_config`: text in, a Config or a ConfigError out."""
    try:
        data = decode_text(data, str(source))
    except PlanError as err:  # the loader's check of the bytes, here about the config
        raise ConfigError(err.problems) from None
    try:
        document = tomllib.loads(data)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([_syntax_problem(str(source), data, err)]) from None
    reader = _ConfigReader(source, data)
    config = reader.read(document)
    if reader.problems or config is None:
        raise ConfigError(reader.problems)
    return config


def _syntax_problem(source: str, text: str, err: tomllib.TOMLDecodeError) -> Problem:
    # tomllib puts the place in the message: "Invalid value (at line 3, column 8)"
    # or "... (at end of document)"; Python 3.14 adds attributes, 3.11 has only this.
    message = str(err)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if found:
        reason = message[: found.start()]
        return Problem(
            source, int(found.group(1)), "", f"invalid TOML: {reason} (column {found.group(2)})"
        )
    reason = re.sub(r"\s*\(at end of document\)\s*$", "", message)
    last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return Problem(source, last, "", f"invalid TOML: {reason} (at the end of the file)")


# --- checking -----------------------------------------------------------------------

Convert = Callable[[Any], Any]


class _ConfigReader:
    def __init__(self, source: Path, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    # where things are ------------------------------------------------------------

    def _block(self, index: int | None) -> tuple[int, int]:
        """The line span (0-based, end exclusive) of the top level or of target `index`."""
        headers = [
            n for n, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*target\s*\]\]", line)
        ]
        if index is None:
            return 0, headers[0] if headers else len(self.lines)
        if index >= len(headers):
            return 0, len(self.lines)
        start = headers[index]
        end = next(
            (n for n in range(start + 1, len(self.lines)) if re.match(r"\s*\[", self.lines[n])),
            len(self.lines),
        )
        return start, end

    def line_of(self, index: int | None, key: str | None) -> int:
        start, end = self._block(index)
        if key is not None:
            name = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
            pattern = re.compile(rf"\s*{name}\s*=")
            for n in range(start, end):
                if pattern.match(self.lines[n]):
                    return n + 1
            # A top-level key may also be a table header: [key] or [[key]].
            header = re.compile(rf"\s*\[\[?\s*{name}\s*\]")
            for n, line in enumerate(self.lines):
                if index is None and header.match(line):
                    return n + 1
        return start + 1 if index is not None else 1

    def fail(self, index: int | None, key: str | None, message: str) -> None:
        where = "" if index is None else f"target[{index + 1}]"
        path = ".".join(part for part in (where, key or "") if part)
        self.problems.append(Problem(str(self.source), self.line_of(index, key), path, message))

    # the document ------------------------------------------------------------------

    def read(self, document: dict[str, Any]) -> Config | None:
        self._unknown(None, document, {"plan", "weeks", "target"})
        plan = self._value(None, document, "plan", self._path, required=True)
        weeks = self._value(None, document, "weeks", _weeks)
        targets = self._targets(document.get("target"))
        if self.problems or plan is None:
            return None
        return Config(
            plan=plan,
            weeks=DEFAULT_WEEKS if weeks is None else weeks,
            targets=targets,
            source=self.source,
        )

    def _targets(self, raw: Any) -> tuple[Target, ...]:
        if raw is None:
            self.fail(
                None,
                None,
                "no targets: add at least one [[target]] with type = "
                f"{' | '.join(repr(t) for t in TARGET_TYPES)}",
            )
            return ()
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.fail(None, "target", "expected [[target]] tables (an array of tables)")
            return ()
        if not raw:
            self.fail(None, "target", "no targets: add at least one [[target]]")
            return ()
        found = [self._target(index, table) for index, table in enumerate(raw)]
        self._duplicates(found)
        return tuple(t for t in found if t is not None)

    def _duplicates(self, targets: list[Target | None]) -> None:
        seen: dict[object, int] = {}
        for index, target in enumerate(targets):
            if target is None:
                continue
            keys: list[tuple[str, object]] = []
            if target.name is not None:
                keys.append(("name", target.name))
            if isinstance(target, IcsTarget):
                keys.append(("path", target.path))
            for key, value in keys:
                if (key, value) in seen:
                    self.fail(
                        index,
                        key,
                        f"the same {key} as target[{seen[(key, value)] + 1}]: "
                        "each target must be different",
                    )
                seen.setdefault((key, value), index)

    def _target(self, index: int, table: dict[str, Any]) -> Target | None:
        before = len(self.problems)
        kind = self._value(index, table, "type", _choice(TARGET_TYPES), required=True)
        if kind is None:
            return None
        if "password" in table:
            self.fail(index, "password", PASSWORD_INLINE)
        read = {
            "ics": self._ics,
            "google": self._google,
            "caldav": self._caldav,
            "intervals": self._intervals,
        }[kind]
        target = read(index, table)
        return target if len(self.problems) == before else None

    def _ics(self, index: int, table: dict[str, Any]) -> Target | None:
        self._unknown(index, table, {"type", "name", "path"})
        name = self._value(index, table, "name", _text)
        path = self._value(index, table, "path", self._path, required=True)
        return IcsTarget(name, path) if path is not None else None

    def _google(self, index: int, table: dict[str, Any]) -> Target:
        self._unknown(
            index, table, {"type", "name", "calendar", "token", "service_account", "busy"}
        )
        token = self._value(index, table, "token", self._path)
        service_account = self._value(index, table, "service_account", self._path)
        if token is not None and service_account is not None:
            self.fail(index, "service_account", "give token or service_account, not both")
        return GoogleTarget(
            name=self._value(index, table, "name", _text),
            calendar=self._value(index, table, "calendar", _text),
            token=token,
            service_account=service_account,
            busy=self._value(index, table, "busy", _names) or (),
        )

    def _caldav(self, index: int, table: dict[str, Any]) -> Target | None:
        self._unknown(
            index,
            table,
            {
                "type",
                "name",
                "url",
                "calendar",
                "username",
                "password_file",
                "password_env",
                "keyring",
                "busy",
                "insecure",
            },
        )
        secrets = [key for key in ("password_file", "password_env") if key in table]
        if table.get("keyring") is True:
            secrets.append("keyring")
        if len(secrets) > 1:
            self.fail(
                index,
                secrets[1],
                f"give one of password_file, password_env, keyring (found {', '.join(secrets)})",
            )
        url = self._value(index, table, "url", _url, required=True)
        target = CalDAVTarget(
            name=self._value(index, table, "name", _text),
            url=url or "",
            calendar=self._value(index, table, "calendar", _text),
            username=self._value(index, table, "username", _text),
            password_file=self._value(index, table, "password_file", self._path),
            password_env=self._value(index, table, "password_env", _env_name),
            keyring=bool(self._value(index, table, "keyring", _flag)),
            busy=self._value(index, table, "busy", _names) or (),
            insecure=bool(self._value(index, table, "insecure", _flag)),
        )
        return target if url is not None else None

    def _intervals(self, index: int, table: dict[str, Any]) -> Target:
        secrets = ("api_key_file", "api_key_env", "keyring")
        self._unknown(
            index, table, {"type", "name", "athlete", "ride_type", "indoor", "api_key", *secrets}
        )
        if "api_key" in table:
            self.fail(index, "api_key", API_KEY_INLINE)
        given = [k for k in secrets if k in table and table[k] is not False]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            self.fail(index, None, f"give one of api_key_file, api_key_env, keyring = true{found}")
        return IntervalsTarget(
            name=self._value(index, table, "name", _text),
            athlete=self._value(index, table, "athlete", _athlete) or "0",
            api_key_file=self._value(index, table, "api_key_file", self._path),
            api_key_env=self._value(index, table, "api_key_env", _env_name),
            keyring=bool(self._value(index, table, "keyring", _flag)),
            ride_type=self._value(index, table, "ride_type", _ride_type) or "Ride",
            indoor=self._value(index, table, "indoor", _sessions) or (),
        )

    # values --------------------------------------------------------------------------

    def _unknown(self, index: int | None, table: dict[str, Any], known: set[str]) -> None:
        for key in table:
            if key in known or (key == "password" and index is not None):
                continue  # an inline password has its own message (see _target)
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            allowed = ", ".join(sorted(known))
            self.fail(index, key, f"unknown key (expected one of: {allowed}){hint}")

    def _value(
        self,
        index: int | None,
        table: dict[str, Any],
        key: str,
        convert: Convert,
        required: bool = False,
    ) -> Any:
        if key not in table:
            if required:
                self.fail(index, key, "is required but missing")
            return None
        try:
            return convert(table[key])
        except InvalidValue as err:
            self.fail(index, key, str(err))
            return None

    def _path(self, value: Any) -> Path:
        # ~ is the user's home; anything relative is relative to the config file,
        # never to wherever cron happens to start the command.
        text = _text(value)
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.source.parent / path


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"expected a string in quotes, got {_describe(value)}")
    if not value.strip():
        raise InvalidValue("must not be empty")
    return value


def _weeks(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"expected a whole number of weeks, got {_describe(value)}")
    if not 1 <= value <= MAX_WEEKS:
        raise InvalidValue(f"must be between 1 and {MAX_WEEKS} weeks ahead, got {value}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        # Not echoed: `keyring = "hunter2"` is a password typed in the wrong place.
        raise InvalidValue(f"expected true or false, got {_kind_of(value)}")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidValue(f'expected a list of calendar names, e.g. ["{value}"]')
    if not isinstance(value, list):
        raise InvalidValue(f"expected a list of calendar names, got {_describe(value)}")
    for item in value:
        _text(item)
    return tuple(value)


def _url(value: Any) -> str:
    text = _text(value)
    parts = urlsplit(text)
    if parts.password is not None:
        raise InvalidValue(PASSWORD_INLINE)
    if not re.match(r"^https?://[^/\s]+", text):
        raise InvalidValue(f"expected an http:// or https:// address, got '{text}'")
    return text


def _athlete(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else _text(value)
    if not re.fullmatch(r"0|i?[0-9]+", text):
        raise InvalidValue(
            f"expected 0 (the API key's owner) or an athlete id like i12345, got '{text}'"
        )
    return text


def _ride_type(value: Any) -> str:
    text = _text(value)
    if text not in ("Ride", "VirtualRide"):
        raise InvalidValue(f"expected 'Ride' or 'VirtualRide', got '{text}'")
    return text


def _sessions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidValue(
            f'expected a list of session names, e.g. ["intervals"], got {_describe(value)}'
        )
    for item in value:
        _text(item)
    return tuple(value)


def _env_name(value: Any) -> str:
    text = _text(value)
    if not ENV_NAME.match(text):
        # Not echoed: what is there instead of a name is often the password itself.
        raise InvalidValue(
            "expected the name of an environment variable (e.g. CALDAV_PASSWORD), not its value"
        )
    return text


def _choice(choices: tuple[str, ...]) -> Convert:
    def convert(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            raise InvalidValue(
                f"unknown target type '{text}' (expected {' | '.join(repr(c) for c in choices)})"
            )
        return text

    return convert


def _kind_of(value: Any) -> str:
    return "text" if isinstance(value, str) else _describe(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    kinds = {int: "a number", float: "a number", list: "a list", dict: "a table"}
    return kinds.get(type(value), type(value).__name__)
