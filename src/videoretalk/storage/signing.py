"""HMAC signatures for result URLs and upload policies, from one server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

__all__ = ["Signer", "load_secret"]

SECRET_FILE = "secret.key"


def load_secret(configured: str, data_dir: Path) -> bytes:
    """The configured secret, else one generated on first start and kept beside the data."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, message: str) -> bytes:
        # Domain separation: a URL signature can never pass as a policy signature.
        return hmac.new(self._secret, f"{purpose}\n{message}".encode(), hashlib.sha256).digest()

    def signed_query(self, path: str, expires: int) -> str:
        signature = self._mac("url", f"{path}\n{expires}").hex()
        return urlencode({"Expires": expires, "Signature": signature})

    def check_url(self, path: str, expires: str, signature: str, now: float | None = None) -> str:
        """'' when valid, else why not ("bad" or "expired")."""
        try:
            expires_at = int(expires)
        except ValueError:
            return "bad"
        expected = self._mac("url", f"{path}\n{expires_at}").hex()
        if not hmac.compare_digest(expected, signature):
            return "bad"
        if (time.time() if now is None else now) > expires_at:
            return "expired"
        return ""

    def sign_policy(self, owner: str, policy_b64: str) -> str:
        return base64.b64encode(self._mac("policy", f"{owner}\n{policy_b64}")).decode()

    def check_policy(self, owner: str, policy_b64: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign_policy(owner, policy_b64), signature)
