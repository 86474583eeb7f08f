"""The proxy a CalDAV request goes through, from the environment, as curl and requests
read it: `https_proxy`/`HTTPS_PROXY` for https:// URLs, `http_proxy`/`HTTP_PROXY` for
http:// ones, `all_proxy`/`ALL_PROXY` for both, unless `no_proxy`/`NO_PROXY` names the
host (a name, which also covers its subdomains, an IP address, a network such as
`10.0.0.0/8`, or `*`). Only http:// proxies are spoken to (https:// URLs through them
with CONNECT); a proxy's user and password, if given, go to the proxy only.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from calsync.errors import BadInput


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict)  # Proxy-Authorization, if any


def _setting(names: tuple[str, ...], environ: Mapping[str, str]) -> tuple[str, str] | None:
    for name in names:
        for spelt in (name.lower(), name.upper()):
            value = environ.get(spelt, "").strip()
            if value:
                return spelt, value
    return None


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether `no_proxy` (comma-separated) names `host`."""
    import ipaddress

    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = entry.strip("[]").lstrip(".")
        if ":" in name and name.count(":") == 1:
            name = name.split(":", 1)[0]  # host:port: the host is what counts here
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(scheme: str, host: str, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy for a request to `scheme://host`, or None to go straight there."""
    environ = os.environ if environ is None else environ
    found = _setting((f"{scheme}_proxy", "all_proxy"), environ)
    if found is None:
        return None
    skip = _setting(("no_proxy",), environ)
    if skip is not None and bypassed(host, skip[1]):
        return None
    variable, value = found
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    try:
        port = parts.port or 80
    except ValueError:
        port = -1
    if parts.scheme.lower() != "http" or not parts.hostname or port < 0:
        shown = parts._replace(netloc=parts.hostname or "").geturl() if parts.hostname else value
        raise BadInput(
            f"{variable}='{shown}': calsync's CalDAV connections go only through an "
            "http:// proxy (http://host:port)"
        )
    headers = {}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return Proxy(parts.hostname, port, headers)
