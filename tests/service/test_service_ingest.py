"""Safe URL fetching: SSRF refusals, byte caps, timeouts, refusals, redirects, pinning."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from servicekit import MediaServer, free_port

from videoretalk.errors import InvalidFileSize, InvalidURL, URLConnectionRefused, URLTimeout
from videoretalk.ingest.download import DownloadPolicy, download
from videoretalk.ingest.netguard import AllowList, blocked_reason

LOOPBACK_ONLY = AllowList.parse("127.0.0.1/32")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "240.0.0.1",
        "255.255.255.255",
        "100.64.0.1",
        "100.100.100.200",
        "2002:7f00:1::",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f.0.0.1",
        "127.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "localhost",
        "[0:0:0:0:0:ffff:7f00:1]",
        "169.254.169.254",
    ],
)
def test_ssrf_forms_refused_without_allow_list(
    host: str, media_server: MediaServer, tmp_path: Path
) -> None:
    media_server.put("ok.bin", b"data")
    with pytest.raises(InvalidURL):
        download(
            f"http://{host}:{media_server.port}/ok.bin",
            tmp_path / "x",
            field="video_url",
            max_bytes=100,
            policy=DownloadPolicy(timeout_seconds=2),
        )


def test_only_http_and_https(tmp_path: Path) -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/a", "gopher://x/", "oss://a/b"):
        with pytest.raises(InvalidURL):
            download(url, tmp_path / "x", field="video_url", max_bytes=10, policy=DownloadPolicy())


def test_allow_list_opens_loopback_and_redirect_hops_are_rechecked(
    media_server: MediaServer, tmp_path: Path
) -> None:
    url = media_server.put("ok.bin", b"data")
    policy = DownloadPolicy(timeout_seconds=2, allow=LOOPBACK_ONLY)
    assert download(url, tmp_path / "a", field="video_url", max_bytes=100, policy=policy) == 4
    # Allowed first hop, redirect to a loopback address the allow-list does not name.
    hop = f"{media_server.base}/redirect?to=http://127.0.0.2:{media_server.port}/ok.bin"
    with pytest.raises(InvalidURL, match="127.0.0.2"):
        download(hop, tmp_path / "b", field="video_url", max_bytes=100, policy=policy)
    hop = f"{media_server.base}/redirect?to=/ok.bin"
    assert download(hop, tmp_path / "c", field="video_url", max_bytes=100, policy=policy) == 4


def test_connection_is_pinned_to_the_checked_address(
    media_server: MediaServer, tmp_path: Path
) -> None:
    # "media.test" does not exist in DNS: the fetch works only because the connection
    # goes to the address the guard resolved and checked; the Host header keeps the name.
    media_server.put("pin.bin", b"pinned")
    policy = DownloadPolicy(
        timeout_seconds=2,
        allow=AllowList.parse("media.test"),
        resolve=lambda host, port: ["127.0.0.1"],
    )
    download(
        f"http://media.test:{media_server.port}/pin.bin",
        tmp_path / "p",
        field="video_url",
        max_bytes=100,
        policy=policy,
    )
    assert (tmp_path / "p").read_bytes() == b"pinned"
    assert f"media.test:{media_server.port} /pin.bin" in media_server.hits


def test_any_blocked_answer_blocks_the_name(tmp_path: Path) -> None:
    policy = DownloadPolicy(resolve=lambda host, port: ["8.8.8.8", "10.0.0.1"])
    with pytest.raises(InvalidURL, match="private"):
        download(
            "http://mixed.test/a", tmp_path / "x", field="video_url", max_bytes=10, policy=policy
        )


def test_byte_cap_holds_whatever_content_length_says(
    media_server: MediaServer, tmp_path: Path
) -> None:
    policy = DownloadPolicy(timeout_seconds=5, allow=LOOPBACK_ONLY)
    big = media_server.put("big.bin", b"x" * 5000)
    with pytest.raises(InvalidFileSize):
        download(big, tmp_path / "a", field="audio_url", max_bytes=4096, policy=policy)
    # No Content-Length at all: the cap is counted while reading.
    with pytest.raises(InvalidFileSize):
        download(
            f"{media_server.base}/endless?n=5000",
            tmp_path / "b",
            field="audio_url",
            max_bytes=4096,
            policy=policy,
        )


def test_timeout_refused_and_http_errors(media_server: MediaServer, tmp_path: Path) -> None:
    policy = DownloadPolicy(timeout_seconds=1, allow=LOOPBACK_ONLY)
    with pytest.raises(URLTimeout):
        download(
            f"{media_server.base}/slow",
            tmp_path / "a",
            field="video_url",
            max_bytes=10_000,
            policy=policy,
        )
    with pytest.raises(URLConnectionRefused):
        download(
            f"http://127.0.0.1:{free_port()}/x",
            tmp_path / "b",
            field="video_url",
            max_bytes=10,
            policy=policy,
        )
    with pytest.raises(InvalidURL, match="404"):
        download(
            f"{media_server.base}/status/404",
            tmp_path / "c",
            field="video_url",
            max_bytes=10,
            policy=policy,
        )
    with pytest.raises(InvalidURL, match="resolve"):
        download(
            "http://no-such-host.invalid/x",
            tmp_path / "d",
            field="video_url",
            max_bytes=10,
            policy=policy,
        )
