"""How the CalDAV target's messages name the settings: command-line flags or config keys.

`calsync sync caldav` is set with flags (`--url`), `calsync refresh` with the keys
of a config file's target (`url = ...`); a message tells each user what to
change in the words of what they typed. Warnings go through a `Warn` function
the command line gives (coloured on a terminal); `plain_warning` is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

from calsync.sync.backend import Warn, warn_on_stderr

__all__ = ["COMMAND_LINE", "CONFIG_FILE", "Names", "Warn", "plain_warning"]


@dataclass(frozen=True)
class Names:
    url: str
    calendar: str
    calendar_named: str  # the calendar setting with a value in it
    username: str
    password: str  # every way to give the password
    insecure: str
    busy: str


COMMAND_LINE = Names(
    url="--url",
    calendar="--calendar",
    calendar_named="--calendar NAME",
    username="--username",
    password="--password-file, --password-env or --keyring",
    insecure="--insecure",
    busy="--busy",
)

CONFIG_FILE = Names(
    url="url",
    calendar="calendar",
    calendar_named='calendar = "NAME"',
    username="username",
    password="password_file, password_env or keyring",
    insecure="insecure = true",
    busy="busy",
)


plain_warning = warn_on_stderr
