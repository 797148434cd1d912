"""Where media bytes live: a local folder or S3 (or any S3-compatible store), behind one interface.

Keys are chosen by the app (`new_key()`: random, never derived from the uploader or the media id).
Reads always go through short-lived signed URLs: presigned GETs for S3, HMAC-signed links served by
the API (`/media/local/<key>?exp=&sig=`) for the local folder. Blocking boto3 calls run in threads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 16 * 1024 * 1024  # S3: larger uploads go in parts
PART_SIZE = 8 * 1024 * 1024  # S3 parts (≥ 5 MiB except the last); at most 10,000 parts

_KEY = re.compile(r"^[a-z]+/[A-Za-z0-9_-]{16,64}(/[a-z0-9_-]{1,32}\.[a-z0-9]{1,5})?$")

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "bin": "application/octet-stream",
}
EXTENSIONS = {v: k for k, v in CONTENT_TYPES.items()}


class StorageError(Exception):
    """The store refused or failed an operation."""


class TooLarge(Exception):
    """More bytes arrived than were declared."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def new_key(prefix: str = "o") -> str:
    """A fresh random key: `o/<32 random chars>` (originals), `r/<…>` (renditions)."""
    return f"{prefix}/{secrets.token_urlsafe(24)}"


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key)) and ".." not in key


@dataclass(frozen=True)
class Presigned:
    """How a client sends the bytes of one upload (S3)."""

    method: str
    url: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    number: int
    url: str
    offset: int
    size: int


class Storage(Protocol):
    """What the media flow needs from a store. `direct` stores take uploads from the client."""

    name: str
    direct: bool

    async def stat(self, key: str) -> int | None:
        """The object's size, or None when it does not exist."""

    async def read_head(self, key: str, n: int) -> bytes: ...

    async def sha256(self, key: str) -> str: ...

    async def fetch_to(self, key: str, dest: Path) -> None: ...

    async def put_file(self, key: str, src: Path, content_type: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    def read_url(self, key: str, content_type: str, expires_in: int) -> str: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Signer:
    """HMAC signatures for the API's own links (local reads, local upload URLs), with an expiry."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hmac.new(secret.encode(), f"phananh-media:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, subject: str, exp: int) -> str:
        return _b64(hmac.new(self._key, f"{subject}\n{exp}".encode(), hashlib.sha256).digest())

    def query(self, subject: str, expires_in: int, now: float | None = None) -> dict[str, str]:
        exp = int((now or time.time()) + expires_in)
        return {"exp": str(exp), "sig": self.sign(subject, exp)}

    def verify(self, subject: str, exp: str | None, sig: str | None, now: float | None = None) -> bool:
        # ASCII first: `str.isdigit` takes "²", which `int` refuses, and `compare_digest` refuses
        # non-ASCII text; a link we signed is ASCII throughout
        if (
            not exp
            or not sig
            or not (exp.isascii() and exp.isdigit() and len(exp) <= 18)
            or not sig.isascii()
        ):
            return False
        if int(exp) < (now or time.time()):
            return False
        return hmac.compare_digest(self.sign(subject, int(exp)), sig)


class LocalStorage:
    """A folder. Files are written to a temporary name and renamed into place when complete."""

    name = "local"
    direct = False

    def __init__(self, root: Path, *, secret: str, base_url: str) -> None:
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.reads = Signer(secret, "read")
        self.uploads = Signer(secret, "upload")

    def path(self, key: str) -> Path:
        if not valid_key(key):
            raise StorageError(f"bad key {key!r}")
        return self.root / key

    async def stat(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(os.stat, self.path(key))).st_size
        except FileNotFoundError:
            return None

    async def read_head(self, key: str, n: int) -> bytes:
        def _read() -> bytes:
            with open(self.path(key), "rb") as f:
                return f.read(n)

        return await asyncio.to_thread(_read)

    async def sha256(self, key: str) -> str:
        def _hash() -> str:
            h = hashlib.sha256()
            with open(self.path(key), "rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
            return h.hexdigest()

        return await asyncio.to_thread(_hash)

    async def fetch_to(self, key: str, dest: Path) -> None:
        import shutil

        await asyncio.to_thread(shutil.copyfile, self.path(key), dest)

    async def put_file(self, key: str, src: Path, content_type: str) -> None:
        import shutil

        target = self.path(key)

        def _put() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            os.close(fd)
            try:
                shutil.copyfile(src, tmp)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

        await asyncio.to_thread(_put)

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], limit: int) -> tuple[int, str]:
        """Stream `chunks` to the key (replacing it when complete); TooLarge past `limit` bytes.

        Returns (bytes written, SHA-256 hex). Nothing is left behind on failure.
        """
        target = self.path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        fd, tmp = await asyncio.to_thread(tempfile.mkstemp, dir=target.parent, prefix=".up-")
        f = os.fdopen(fd, "wb")
        h = hashlib.sha256()
        size = 0
        pending: list[bytes] = []
        pending_n = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                h.update(chunk)
                pending.append(chunk)
                pending_n += len(chunk)
                if pending_n >= CHUNK:  # batch small ASGI chunks into ~1 MiB writes off the loop
                    data = b"".join(pending)
                    pending, pending_n = [], 0
                    await asyncio.to_thread(f.write, data)
            if pending:
                await asyncio.to_thread(f.write, b"".join(pending))
            await asyncio.to_thread(f.close)
            await asyncio.to_thread(os.replace, tmp, target)
        except BaseException:
            f.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # quick, and must run even when cancelled
            raise
        return size, h.hexdigest()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)

    def read_url(self, key: str, content_type: str, expires_in: int) -> str:
        q = self.reads.query(key, expires_in)
        return f"{self.base_url}/media/local/{quote(key)}?{urlencode(q)}"

    def upload_url(self, media_id: str, expires_in: int) -> tuple[str, int]:
        """The API address a client PUTs the bytes to, signed (no token needed), and its expiry."""
        q = self.uploads.query(media_id, expires_in)
        return f"{self.base_url}/v1/uploads/{media_id}/content?{urlencode(q)}", int(q["exp"])


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint_url: str = ""
    region: str = "ap-southeast-1"
    access_key_id: str = ""
    secret_access_key: str = ""


class S3Storage:
    """S3 or an S3-compatible store through boto3 (SigV4, path-style addressing)."""

    name = "s3"
    direct = True

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            import boto3
            from botocore.config import Config

            kw: dict[str, Any] = {}
            if self.config.access_key_id:
                kw["aws_access_key_id"] = self.config.access_key_id
                kw["aws_secret_access_key"] = self.config.secret_access_key
            self._client = boto3.client(
                "s3",
                endpoint_url=self.config.endpoint_url or None,
                region_name=self.config.region,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
                **kw,
            )
        return self._client

    # --- uploads ---

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> Presigned:
        """A browser/phone-style POST whose policy pins the key, the type and the exact size."""
        post = self.client.generate_presigned_post(
            self.bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", size, size],
            ],
            ExpiresIn=expires_in,
        )
        return Presigned("POST", post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def presign_put(
        self, key: str, content_type: str, size: int, expires_in: int, sha256_hex: str | None = None
    ) -> Presigned:
        """A single PUT signing Content-Type, Content-Length (and the SHA-256 checksum when given)."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        if sha256_hex:
            checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
            params["ChecksumSHA256"] = checksum
            headers["x-amz-checksum-sha256"] = checksum
        url = self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        return Presigned("PUT", url, headers=headers)

    async def create_multipart(self, key: str, content_type: str) -> str:
        out = await asyncio.to_thread(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return out["UploadId"]

    def part_urls(self, key: str, upload_id: str, size: int, part_size: int, expires_in: int) -> list[Part]:
        parts = []
        for i, offset in enumerate(range(0, size, part_size), start=1):
            url = self.client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": i},
                ExpiresIn=expires_in,
            )
            parts.append(Part(i, url, offset, min(part_size, size - offset)))
        return parts

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )
        except ClientError as exc:
            raise StorageError(exc.response.get("Error", {}).get("Code", "ClientError")) from exc

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(
                self.client.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                raise

    # --- objects ---

    async def stat(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            out = await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(out["ContentLength"])

    async def read_head(self, key: str, n: int) -> bytes:
        def _get() -> bytes:
            out = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{n - 1}")
            return out["Body"].read()

        return await asyncio.to_thread(_get)

    async def sha256(self, key: str) -> str:
        def _hash() -> str:
            h = hashlib.sha256()
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(CHUNK):
                h.update(chunk)
            return h.hexdigest()

        return await asyncio.to_thread(_hash)

    async def fetch_to(self, key: str, dest: Path) -> None:
        await asyncio.to_thread(self.client.download_file, self.bucket, key, str(dest))

    async def put_file(self, key: str, src: Path, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.upload_file,
            str(src),
            self.bucket,
            key,
            ExtraArgs={"ContentType": content_type, "CacheControl": "private, max-age=86400"},
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)

    def read_url(self, key: str, content_type: str, expires_in: int) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type},
            ExpiresIn=expires_in,
        )


__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "MULTIPART_THRESHOLD",
    "PART_SIZE",
    "LocalStorage",
    "Part",
    "Presigned",
    "S3Config",
    "S3Storage",
    "Signer",
    "Storage",
    "StorageError",
    "TooLarge",
    "new_key",
    "valid_key",
]
