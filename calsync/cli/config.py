"""The refresh config: one TOML file naming the plan, the horizon and the targets.

Pure parsing into frozen dataclasses; every problem found is reported at once
as a `ConfigError` (an `InputProblems`, like the loader's `PlanError`, so the
command line prints them the same way and exits 2), each naming the file, a line
and the key (found as `config_lines` says; each value is checked by `config_values`).

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
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calsync.cli import config_values as v
from calsync.cli.config_lines import ConfigText, syntax_problem
from calsync.core.problems import Problem, decode_text
from calsync.errors import ConfigError, PlanError
from calsync.targets.open import CalDAVTarget, GoogleTarget, IntervalsTarget

DEFAULT_WEEKS = 4
TARGET_TYPES = ("ics", "google", "caldav", "intervals")


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
        raise ConfigError([syntax_problem(str(source), data, err)]) from None
    reader = _ConfigReader(source, data)
    config = reader.read(document)
    if reader.problems or config is None:
        raise ConfigError(reader.problems)
    return config


class _ConfigReader(ConfigText):
    """The document's tables, checked key by key into a Config (None if any problem)."""

    def read(self, document: dict[str, Any]) -> Config | None:
        self._unknown(None, document, {"plan", "weeks", "target"})
        plan = self.value(None, document, "plan", self._path, required=True)
        weeks = self.value(None, document, "weeks", v.weeks)
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
        kind = self.value(index, table, "type", v.choice(TARGET_TYPES), required=True)
        if kind is None:
            return None
        if "password" in table:
            self.fail(index, "password", v.PASSWORD_INLINE)
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
        name = self.value(index, table, "name", v.string)
        path = self.value(index, table, "path", self._path, required=True)
        return IcsTarget(name, path) if path is not None else None

    def _google(self, index: int, table: dict[str, Any]) -> Target:
        self._unknown(
            index, table, {"type", "name", "calendar", "token", "service_account", "busy"}
        )
        token = self.value(index, table, "token", self._path)
        service_account = self.value(index, table, "service_account", self._path)
        if token is not None and service_account is not None:
            self.fail(index, "service_account", "give token or service_account, not both")
        return GoogleTarget(
            name=self.value(index, table, "name", v.string),
            calendar=self.value(index, table, "calendar", v.string),
            token=token,
            service_account=service_account,
            busy=self.value(index, table, "busy", v.names) or (),
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
        secrets: list[str] = [key for key in ("password_file", "password_env") if key in table]
        if table.get("keyring") is True:
            secrets.append("keyring")
        if len(secrets) > 1:
            self.fail(
                index,
                secrets[1],
                f"give one of password_file, password_env, keyring (found {', '.join(secrets)})",
            )
        url = self.value(index, table, "url", v.url, required=True)
        target = CalDAVTarget(
            name=self.value(index, table, "name", v.string),
            url=url or "",
            calendar=self.value(index, table, "calendar", v.string),
            username=self.value(index, table, "username", v.string),
            password_file=self.value(index, table, "password_file", self._path),
            password_env=self.value(index, table, "password_env", v.env_name),
            keyring=bool(self.value(index, table, "keyring", v.flag)),
            busy=self.value(index, table, "busy", v.names) or (),
            insecure=bool(self.value(index, table, "insecure", v.flag)),
        )
        return target if url is not None else None

    def _intervals(self, index: int, table: dict[str, Any]) -> Target:
        secrets = ("api_key_file", "api_key_env", "keyring")
        self._unknown(
            index, table, {"type", "name", "athlete", "ride_type", "indoor", "api_key", *secrets}
        )
        if "api_key" in table:
            self.fail(index, "api_key", v.API_KEY_INLINE)
        given = [k for k in secrets if k in table and table[k] is not False]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            self.fail(index, None, f"give one of api_key_file, api_key_env, keyring = true{found}")
        return IntervalsTarget(
            name=self.value(index, table, "name", v.string),
            athlete=self.value(index, table, "athlete", v.athlete) or "0",
            api_key_file=self.value(index, table, "api_key_file", self._path),
            api_key_env=self.value(index, table, "api_key_env", v.env_name),
            keyring=bool(self.value(index, table, "keyring", v.flag)),
            ride_type=self.value(index, table, "ride_type", v.ride_type) or "Ride",
            indoor=self.value(index, table, "indoor", v.sessions) or (),
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

    def _path(self, value: Any) -> Path:
        # ~ is the user's home; anything relative is relative to the config file,
        # never to wherever cron happens to start the command.
        text = v.string(value)
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.source.parent / path
