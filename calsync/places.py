"""Where calsync keeps things on the user's machine (platformdirs, so every OS is right)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_state_path

APP = "calsync"


def config_dir() -> Path:
    return user_config_path(APP)


def state_dir() -> Path:
    return user_state_path(APP)


def google_token() -> Path:
    return config_dir() / "google-token.json"


def google_client_secrets() -> Path:
    return config_dir() / "client_secret.json"
