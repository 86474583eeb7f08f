"""Secrets (passwords, API keys) from where the user keeps them: a file, an environment
variable or the system keyring; never the command line, where `ps` and the shell history
would show them. Shared by every target that needs one; each names what it reads and
raises its own BadInput subclass, so messages say "password" or "API key"."""

from __future__ import annotations

import os
from pathlib import Path

from calsync.errors import BadInput


def from_file(path: Path, what: str, error: type[BadInput], strip: bool = False) -> str:
    """The file's first line (stripped of surrounding blanks when `strip`)."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or type(err).__name__
        raise error(f"cannot read the {what} file {path}: {why}") from None
    first = text.splitlines()[0] if text.strip() else ""
    secret = first.strip() if strip else first
    if not secret:
        raise error(f"the {what} file {path} is empty")
    return str(secret)


def from_env(name: str, error: type[BadInput], strip: bool = False) -> str:
    value = os.environ.get(name, "")
    value = value.strip() if strip else value
    if not value:
        raise error(f"the environment variable {name} is not set or empty")
    return value


def from_keyring(service: str, user: str, what: str, error: type[BadInput]) -> str:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        raise error(f"reading the {what} from the keyring needs: pip install keyring") from None
    try:
        secret = keyring.get_password(service, user)
    except KeyringError as err:
        raise error(f"the system keyring could not be read: {type(err).__name__}") from None
    if not secret:
        raise error(
            f"no {what} in the system keyring for '{service}' and user '{user}' "
            f"(store one with: keyring set {service} {user})"
        )
    return str(secret)
