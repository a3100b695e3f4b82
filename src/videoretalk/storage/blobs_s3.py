"""`S3BlobStore`: results and uploads in S3-compatible storage, through boto3.

Works with AWS S3, MinIO, Aliyun OSS and anything else speaking the S3 API.
Results are handed to clients as presigned GET URLs (`url`), so downloads go
straight to the object store instead of through an API node.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .blobs import CHUNK_BYTES, BlobInfo

__all__ = ["S3BlobStore", "check_key"]

# SigV4 presigned URLs may live at most 7 days.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# Uploads are spooled in memory up to this size, then on disk, so that the size
# cap is checked before anything reaches the bucket.
_SPOOL_BYTES = 8 * 1024 * 1024


def check_key(key: str) -> str:
    """The same rule as the local store: relative, '/'-separated, no empty or dot parts."""
    if not key or any(p in ("", ".", "..") for p in key.split("/")):
        raise ValueError(f"bad blob key {key!r}")
    return key


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        public_endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
        addressing_style: str = "auto",
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
        )
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": 5, "mode": "standard"},
        )
        self.client = session.client("s3", endpoint_url=endpoint_url or None, config=config)
        # Presigned URLs name the host clients will reach, which behind NAT or in
        # Docker may differ from the one the nodes use.
        self._presigner = (
            session.client("s3", endpoint_url=public_endpoint_url, config=config)
            if public_endpoint_url
            else self.client
        )

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put_file(self, key: str, source: Path) -> BlobInfo:
        self.client.upload_file(str(source), self.bucket, self._name(key))
        return BlobInfo(key, Path(source).stat().st_size, time.time())

    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> BlobInfo | None:
        name = self._name(key)
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    return None
                spool.write(chunk)
            spool.seek(0)
            self.client.upload_fileobj(spool, self.bucket, name)
        return BlobInfo(key, size, time.time())

    def stat(self, key: str) -> BlobInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ValueError:
            return None
        except self.client.exceptions.ClientError as error:
            if _status(error) == 404:
                return None
            raise
        return BlobInfo(key, int(head["ContentLength"]), head["LastModified"].timestamp())

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        byte_range = f"bytes={start}-{'' if end is None else end}"
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key), Range=byte_range)[
            "Body"
        ]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def fetch(self, key: str, dest: Path) -> None:
        self.client.download_file(self.bucket, self._name(key), str(dest))

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except ValueError:
            pass

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        folder = self.prefix + prefix.strip("/") + "/"
        for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
            for item in page.get("Contents", []):
                yield BlobInfo(
                    item["Key"][len(self.prefix) :],
                    int(item["Size"]),
                    item["LastModified"].timestamp(),
                )

    def url(self, key: str, expires_at: float, filename: str = "") -> str | None:
        """A presigned GET URL valid until `expires_at` (epoch seconds)."""
        seconds = int(min(max(expires_at - time.time(), 1), MAX_PRESIGN_SECONDS))
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
        return str(
            self._presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        )


def _status(error: Any) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
