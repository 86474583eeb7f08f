"""Where calsync keeps things on the user's machine (platformdirs, so every OS is right)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_state_path

APP = "calsync"


def config_dir() -> Path:
    return user_config_path(APP)


STATE_VARIABLE = "CALSYNC_STATE_DIR"  # tests and unusual setups move all state at once


def state_dir() -> Path:
    """The lock of `calsync refresh` and the CalDAV memory of created events live here."""
    override = os.environ.get(STATE_VARIABLE)
    return Path(override).expanduser() if override else user_state_path(APP)


def google_token() -> Path:
    return config_dir() / "google-token.json"


def google_client_secrets() -> Path:
    return config_dir() / "client_secret.json"
