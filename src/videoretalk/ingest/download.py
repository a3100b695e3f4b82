"""Fetch a URL input to a local file, safely.

Streams to disk and stops at the byte cap of the input's kind whatever
Content-Length claims; one deadline covers the whole fetch, redirects included;
each redirect hop is checked by `netguard` and connected to by the address that
was checked (the Host header and TLS name stay the original host's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..errors import InvalidFileSize, InvalidURL, URLConnectionRefused, URLTimeout
from .netguard import AllowList, Resolver, resolve_allowed, system_resolve

__all__ = ["DownloadPolicy", "download"]

_REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
CHUNK_BYTES = 256 * 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class DownloadPolicy:
    timeout_seconds: float = 60.0
    max_redirects: int = 5
    allow: AllowList = AllowList()
    resolve: Resolver = system_resolve
    user_agent: str = "videoretalk/0.1 (+input fetch)"


def check_url_syntax(url: str, field: str) -> httpx.URL:
    """Parse an input URL; only http and https are fetched."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise InvalidURL(f"{field} is not a valid URL: {error}") from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise InvalidURL(
            f"{field} must be an http or https URL (or an oss:// upload), "
            f"got scheme {parsed.scheme!r}"
        )
    if not parsed.host:
        raise InvalidURL(f"{field} has no host: {url!r}")
    return parsed


def download(url: str, dest: Path, *, field: str, max_bytes: int, policy: DownloadPolicy) -> int:
    """Fetch `url` into `dest`; returns its size. Raises InvalidURL* / InvalidFile.Size."""
    deadline = time.monotonic() + policy.timeout_seconds
    current = check_url_syntax(url, field)
    try:
        with httpx.Client(
            timeout=policy.timeout_seconds, follow_redirects=False, trust_env=False
        ) as client:
            for _hop in range(policy.max_redirects + 1):
                response = _open(client, current, policy, deadline)
                try:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        current = check_url_syntax(
                            str(current.join(response.headers["location"])), field
                        )
                        continue
                    if response.status_code >= 400:
                        raise InvalidURL(f"{field}: {current} answered HTTP {response.status_code}")
                    return _save(response, dest, field, max_bytes, deadline)
                finally:
                    response.close()
            raise InvalidURL(f"{field}: more than {policy.max_redirects} redirects")
    except httpx.TimeoutException:
        raise URLTimeout(
            f"{field}: no complete answer from {current.host} within {policy.timeout_seconds:g} s"
        ) from None
    except httpx.ConnectError as error:
        if "refused" in str(error).lower():
            raise URLConnectionRefused(
                f"{field}: connection to {current.host}:{current.port or ''} refused"
            ) from None
        raise InvalidURL(f"{field}: cannot connect to {current.host}: {error}") from None
    except httpx.HTTPError as error:
        raise InvalidURL(f"{field}: fetching {current} failed: {error}") from None


def _open(
    client: httpx.Client, url: httpx.URL, policy: DownloadPolicy, deadline: float
) -> httpx.Response:
    host = url.host
    port = url.port or _DEFAULT_PORTS[url.scheme]
    address = resolve_allowed(host, port, policy.allow, policy.resolve)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx.TimeoutException("deadline")
    # Connect to the checked address; keep the name for Host and for TLS (SNI and
    # certificate check), so a second DNS lookup can never be steered elsewhere.
    pinned = url.copy_with(host=str(address))
    host_header = host if url.port is None else f"{host}:{url.port}"
    request = client.build_request(
        "GET",
        pinned,
        headers={"Host": host_header, "User-Agent": policy.user_agent},
        extensions={"sni_hostname": host, "timeout": httpx.Timeout(remaining).as_dict()},
    )
    return client.send(request, stream=True)


def _save(response: httpx.Response, dest: Path, field: str, max_bytes: int, deadline: float) -> int:
    too_big = InvalidFileSize(f"{field} is larger than the {max_bytes / MB:g} MB allowed")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        for chunk in response.iter_raw(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("deadline")
            out.write(chunk)
    return size
