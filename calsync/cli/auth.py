"""`calsync auth google`: sign in once and keep the token (mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from calsync.errors import BadInput, Failure


@click.group()
def auth() -> None:
    """Authorise calsync to write to a calendar service."""


@auth.command("google")
@click.option(
    "--client-secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The OAuth client file from the Google Cloud console (desktop app).",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the URL to open on another machine instead of opening a browser.",
)
@click.option(
    "--token",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save the token (default: the config folder).",
)
@click.option("--busy", is_flag=True, help="Also read free/busy times (for sync --busy).")
@click.option(
    "--other-calendars",
    is_flag=True,
    help="Also write to calendars calsync did not create (--calendar primary, or yours).",
)
def auth_google(
    client_secrets: Path | None,
    no_browser: bool,
    token: Path | None,
    busy: bool,
    other_calendars: bool,
) -> None:
    """Sign in to Google once; the token is saved with mode 0600 and refreshed automatically.

    \b
    Examples:
      calsync auth google --client-secrets ~/Downloads/client_secret.json
      calsync auth google --no-browser --busy     # on a server; read free/busy too
    """
    import webbrowser

    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2 import MismatchingStateError, MissingCodeError, OAuth2Error
    from requests import RequestException

    from calsync.io.places import google_client_secrets, google_token
    from calsync.targets.google import save_token, scopes_for

    secrets = client_secrets or google_client_secrets()
    if not secrets.exists():
        raise BadInput(
            f"no OAuth client file at {secrets}: create a 'Desktop app' OAuth client in the Google Cloud "
            f"console, download its JSON and pass it with --client-secrets (or save it as {secrets})"
        )
    try:
        flow = InstalledAppFlow.from_client_secrets_file(
            str(secrets), scopes=scopes_for(busy, other_calendars)
        )
    except (ValueError, KeyError, OSError) as err:
        raise BadInput(f"{secrets} is not an OAuth client file ({err})") from None
    try:
        credentials = _sign_in_by_hand(flow) if no_browser else _sign_in_with_browser(flow)
    except webbrowser.Error:
        raise Failure(
            "there is no browser to open here: run `calsync auth google --no-browser` and "
            "open the address it prints on any machine"
        ) from None
    except (MismatchingStateError, MissingCodeError):
        raise BadInput(
            "that is not the address Google redirected you to: copy the whole address from "
            "the browser's address bar after allowing access (it starts with http://localhost:1/?state=)"
        ) from None
    except OAuth2Error as err:
        raise Failure(f"Google refused the sign-in: {err.description or err.error}") from None
    except (RequestException, OSError) as err:
        raise Failure(f"cannot reach Google to sign in: {type(err).__name__}") from None
    target = token or google_token()
    save_token(target, credentials.to_json())
    click.echo(f"saved the Google token to {target} (readable by you only)")


def _sign_in_by_hand(flow: Any) -> Any:
    """For a machine without a browser: the URL is opened elsewhere, the answer pasted back."""
    flow.redirect_uri = "http://localhost:1"
    url, _ = flow.authorization_url(prompt="consent", access_type="offline")
    click.echo(f"Open this URL in a browser on any machine and allow access:\n\n  {url}\n")
    answer = click.prompt(
        "Then paste the address the browser was sent to (it starts with http://localhost:1)"
    )
    # The redirect goes to localhost, never over a network, so plain http is fine there.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # Google answers with every scope granted so far (say, --busy on an earlier sign-in).
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow.fetch_token(authorization_response=answer.strip())
    return flow.credentials


def _sign_in_with_browser(flow: Any) -> Any:
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")  # see _sign_in_by_hand
    return flow.run_local_server(port=0, prompt="consent", access_type="offline")
