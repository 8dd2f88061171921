"""Where the app keeps files: generated names in Django's default storage, never the user's file name.

The one door to stored files: no other module builds a stored file's path. The store is MEDIA_ROOT on
local disk (FileSystemStorage), or an S3-compatible bucket (django-storages' S3Storage) when
CSVA_STORAGE_URL is set. With a bucket, files are written from a local scratch file (boto3 streams it,
as a multipart upload when large), read whole through a read-through cache on local disk capped at
CSVA_STORAGE_CACHE_BYTES, and Parquet pages are read with range requests (pyarrow's S3 filesystem).
Stored names are fresh uuids and never rewritten, so a cached copy never goes stale.

Two errors leave this module: StoredFileMissing (a FileNotFoundError: the name's file is gone) and
StoreUnavailable (an OSError: the store cannot be reached). Entrypoints turn them into a 410 and a 503.
"""

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from pyarrow import fs as pafs

logger = logging.getLogger(__name__)

StoredName = str | FieldFile
# A cached file used this recently is kept past the cap: a reader may be about to open its path.
CACHE_GRACE_SECONDS = 60
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class StoredFileMissing(FileNotFoundError):
    """The stored file a row points at is gone (deleted behind the app's back, a lost volume)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The stored file {name} is missing.")
        self.name = name


class StoreUnavailable(OSError):
    """The object store cannot be reached (or refused the app's credentials)."""


def file_name_new(*, folder: str, suffix: str) -> str:
    """A fresh storage name such as `versions/3f2a….parquet`."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def _name(file: StoredName) -> str:
    name = file if isinstance(file, str) else file.name
    if not name:
        # A row read from the database always has a name (blank is ""); only one built in memory lacks it.
        raise ValueError("The row has no stored file.")
    return name


def _is_local() -> bool:
    return isinstance(default_storage, FileSystemStorage)


def _local_path(name: str) -> Path:
    return Path(default_storage.path(name))


def _key(name: str) -> str:
    """The object key of a name in the bucket: the storage's `location` prefix, then the name."""
    prefix = str(getattr(default_storage, "location", "")).strip("/")
    return f"{prefix}/{name}" if prefix else name


@contextmanager
def _s3_errors(name: str) -> Iterator[None]:
    """Turn boto3's and pyarrow's errors into StoredFileMissing and StoreUnavailable."""
    try:
        yield
    except (StoredFileMissing, StoreUnavailable):
        raise
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            raise StoredFileMissing(name) from exc
        raise StoreUnavailable(f"The file store refused the request ({code}).") from exc
    except FileNotFoundError as exc:
        raise StoredFileMissing(name) from exc
    except (BotoCoreError, OSError) as exc:
        logger.warning("file store unreachable while handling %s: %s", name, exc)
        raise StoreUnavailable("The file store cannot be reached.") from exc


# --- The read-through cache (bucket only) ------------------------------------------------------------


def _cache_root() -> Path:
    return Path(settings.STORAGE_CACHE_DIR or Path(settings.MEDIA_ROOT) / ".store-cache")


def _cache_path(name: str) -> Path:
    # Hashed, so a name never becomes a path of its own; the suffix helps readers that look at it.
    return _cache_root() / "objects" / (hashlib.sha256(name.encode()).hexdigest() + Path(name).suffix)


def _scratch_path() -> Path:
    folder = _cache_root() / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.uuid4().hex}.part"


def _cache_put(name: str, source: Path) -> Path:
    target = _cache_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    _cache_evict(keep=target)
    return target


def _cache_evict(*, keep: Path) -> None:
    """Delete the least recently used copies until the cache fits its cap (recently used ones stay)."""
    entries = []
    for entry in os.scandir(keep.parent):
        if entry.is_file():
            stat = entry.stat()
            entries.append((stat.st_mtime, stat.st_size, Path(entry.path)))
    total = sum(size for _, size, _ in entries)
    now = time.time()
    for mtime, size, path in sorted(entries):
        if total <= settings.STORAGE_CACHE_BYTES:
            break
        if path == keep or now - mtime < CACHE_GRACE_SECONDS:
            continue
        path.unlink(missing_ok=True)
        total -= size


def _cached(name: str) -> Path | None:
    path = _cache_path(name)
    try:
        os.utime(path)
    except FileNotFoundError:
        return None
    return path


# --- Writes -----------------------------------------------------------------------------------------


@contextmanager
def stored_write(file: StoredName) -> Iterator[Path]:
    """A local path to write the new file at; stored when the block ends, removed if anything fails."""
    name = _name(file)
    if _is_local():
        path = _local_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield path
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return
    scratch = _scratch_path()
    try:
        yield scratch
        with scratch.open("rb") as handle, _s3_errors(name):
            # boto3's upload_fileobj streams the file, in parts when large; a failed upload is aborted.
            default_storage.save(name, File(handle, name=name))
        _cache_put(name, scratch)
    finally:
        scratch.unlink(missing_ok=True)


def files_delete(names: Iterable[str | None]) -> None:
    """Delete stored files, ignoring blank names and files already gone (deletes may be replayed)."""
    for name in names:
        if not name:
            continue
        try:
            if not _is_local():
                _cache_path(name).unlink(missing_ok=True)
            with _s3_errors(name):
                default_storage.delete(name)
        except OSError as exc:
            logger.warning("could not delete stored file %s: %s", name, exc)


# --- Reads ------------------------------------------------------------------------------------------


def stored_local_path(file: StoredName) -> Path:
    """A local path to read the file from: the file itself on local storage, else a cached copy."""
    name = _name(file)
    if _is_local():
        path = _local_path(name)
        if not path.is_file():
            raise StoredFileMissing(name)
        return path
    cached = _cached(name)
    if cached is not None:
        return cached
    scratch = _scratch_path()
    try:
        with _s3_errors(name):
            default_storage.bucket.download_file(_key(name), str(scratch))
        return _cache_put(name, scratch)
    finally:
        scratch.unlink(missing_ok=True)


def stored_open(file: StoredName) -> IO[bytes]:
    """The file opened for reading (for downloads); the caller closes it."""
    return stored_local_path(file).open("rb")


def stored_exists(file: StoredName) -> bool:
    name = _name(file)
    if _is_local():
        return _local_path(name).is_file()
    if _cached(name) is not None:
        return True
    with _s3_errors(name):
        return bool(default_storage.exists(name))


def stored_size(file: StoredName) -> int:
    name = _name(file)
    if _is_local():
        try:
            return _local_path(name).stat().st_size
        except FileNotFoundError as exc:
            raise StoredFileMissing(name) from exc
    cached = _cached(name)
    if cached is not None:
        return cached.stat().st_size
    with _s3_errors(name):
        return int(default_storage.size(name))


@lru_cache(maxsize=4)
def _s3_filesystem(
    endpoint: str | None, region: str | None, access_key: str | None, secret_key: str | None
) -> pafs.S3FileSystem:
    parts = urlsplit(endpoint) if endpoint else None
    return pafs.S3FileSystem(
        access_key=access_key,
        secret_key=secret_key,
        region=region or "us-east-1",
        endpoint_override=parts.netloc if parts else None,
        scheme=parts.scheme if parts else "https",
        connect_timeout=settings.STORAGE_TIMEOUT_SECONDS,
        request_timeout=settings.STORAGE_TIMEOUT_SECONDS,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=2),
    )


def parquet_file(file: StoredName) -> pq.ParquetFile:
    """The Parquet file opened for reading parts of it: from the bucket with range requests unless cached."""
    name = _name(file)
    if _is_local() or _cached(name) is not None:
        return pq.ParquetFile(stored_local_path(name))
    storage = default_storage
    filesystem = _s3_filesystem(
        getattr(storage, "endpoint_url", None),
        getattr(storage, "region_name", None),
        getattr(storage, "access_key", None),
        getattr(storage, "secret_key", None),
    )
    with _s3_errors(name):
        return pq.ParquetFile(filesystem.open_input_file(f"{storage.bucket_name}/{_key(name)}"))


# --- Housekeeping -----------------------------------------------------------------------------------


def stored_names_older_than(*, folders: Iterable[str], cutoff: float) -> list[str]:
    """The names of stored files in `folders` last written before `cutoff` (a Unix time)."""
    names = []
    for folder in folders:
        if _is_local():
            root = _local_path(folder)
            if root.is_dir():
                names += [
                    f"{folder}/{path.name}"
                    for path in root.iterdir()
                    if path.is_file() and path.stat().st_mtime < cutoff
                ]
            continue
        with _s3_errors(folder):
            for summary in default_storage.bucket.objects.filter(Prefix=_key(folder) + "/"):
                if summary.last_modified.timestamp() < cutoff:
                    names.append(f"{folder}/{summary.key.rsplit('/', 1)[-1]}")
    return names


# --- Migration from local disk into the bucket (manage.py storage_migrate) --------------------------


class UnsafeStoredName(ValueError):
    """A stored name that would leave its folder (`..`, an absolute path): never joined to a path."""


def store_is_bucket() -> bool:
    return not _is_local()


def media_root() -> Path:
    """The local media folder (MEDIA_ROOT): where files lived before the install moved to a bucket."""
    return Path(settings.MEDIA_ROOT)


def cache_root() -> Path:
    """This host's read-through cache of the bucket (never a source of files to migrate)."""
    return _cache_root()


def local_file_in(root: Path, name: str) -> Path:
    """The file of stored name `name` in a local media folder `root`; refuses names that leave it."""
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or "\\" in name or any(part in {"..", "."} for part in parts):
        raise UnsafeStoredName(f"The stored name {name!r} is not a plain relative name.")
    return root.joinpath(*parts)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_sha256(file: StoredName) -> str | None:
    """The SHA-256 of the object as the bucket holds it (read from the bucket, never the cache); None if absent."""
    name = _name(file)
    digest = hashlib.sha256()
    try:
        with _s3_errors(name):
            body = default_storage.bucket.Object(_key(name)).get()["Body"]
            for block in body.iter_chunks(1024 * 1024):
                digest.update(block)
    except StoredFileMissing:
        return None
    return digest.hexdigest()


def stored_copy_from_local(file: StoredName, path: Path) -> None:
    """Put the local file `path` into the bucket under the stored name (streamed, multipart when large)."""
    name = _name(file)
    # A cached copy of an earlier, different object must not outlive it.
    _cache_path(name).unlink(missing_ok=True)
    with _s3_errors(name):
        default_storage.bucket.upload_file(str(path), _key(name))


def store_check() -> str:
    """ "ok" when the store takes writes (local disk) or answers (bucket); else what is wrong."""
    if _is_local():
        root = Path(settings.MEDIA_ROOT)
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".readyz-{uuid.uuid4().hex}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            logger.warning("readiness: media not writable: %s", exc)
            return "not writable"
        return "ok"
    try:
        with _s3_errors(""):
            default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name)
    except StoreUnavailable as exc:
        logger.warning("readiness: file store: %s", exc)
        return "store unreachable"
    except StoredFileMissing:
        return "bucket missing"
    return "ok"
