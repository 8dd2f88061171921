"""Move an install's stored files from a local media folder into the bucket (`manage.py storage_migrate`).

The files to move are the names the database refers to (every FileField of the app's models), not what
happens to lie in the folder: a file no row refers to is reported and left alone. Each file is hashed,
uploaded, read back from the bucket and hashed again; a row's own `sha256` must match too. A second run
copies nothing: a file the bucket already holds with the same hash is skipped. Local files are deleted
only when asked, and only once their copy is verified.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import models

from csv_processor.storage import (
    UnsafeStoredName,
    cache_root,
    file_sha256,
    local_file_in,
    store_is_bucket,
    stored_copy_from_local,
    stored_sha256,
)

logger = logging.getLogger(__name__)

COPIED, WOULD_COPY, ALREADY_THERE = "copied", "would copy", "already there"
MISSING, MISMATCH, UNSAFE, UNREFERENCED = "missing", "mismatch", "unsafe name", "unreferenced"
# Outcomes that make the migration incomplete: the command exits non-zero.
FAILURES = frozenset({MISSING, MISMATCH, UNSAFE})


class StorageMigrateRefused(Exception):
    """The migration cannot start (no bucket configured, a source folder that is not one)."""


@dataclass(frozen=True)
class FileOutcome:
    name: str
    outcome: str
    detail: str = ""


def referenced_files() -> dict[str, set[str]]:
    """Every stored name a row refers to, with the SHA-256 values rows record for it (maybe none)."""
    expected: dict[str, set[str]] = {}
    for model in apps.get_app_config("csv_processor").get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField):
                continue
            sha = "sha256" if field.name == "file" else f"{field.name.removesuffix('_file')}_sha256"
            has_sha = any(other.name == sha for other in model._meta.get_fields())
            columns = (field.name, sha) if has_sha else (field.name,)
            for row in model._default_manager.exclude(**{field.name: ""}).values_list(*columns).iterator():
                hashes = expected.setdefault(row[0], set())
                if len(row) > 1 and row[1]:
                    hashes.add(row[1])
    return expected


def _check_source(source: Path) -> None:
    if not store_is_bucket():
        raise StorageMigrateRefused(
            "The file store is local disk: set CSVA_STORAGE_URL=s3://bucket/prefix to migrate into a bucket."
        )
    if not source.is_dir():
        raise StorageMigrateRefused(f"The source folder {source} does not exist.")
    cache = cache_root().resolve()
    if source.resolve() == cache or cache in source.resolve().parents:
        raise StorageMigrateRefused(f"The source {source} is the bucket's own read-through cache, not a media folder.")


def _migrate_one(name: str, path: Path, hashes: set[str], *, delete_source: bool, dry_run: bool) -> FileOutcome:
    if len(hashes) > 1:
        return FileOutcome(name, MISMATCH, "rows record different SHA-256 values")
    if not path.is_file():
        stored = stored_sha256(name)
        # Resumed after --delete-source: the bucket already holds the verified copy.
        if stored is not None and (not hashes or stored in hashes):
            return FileOutcome(name, ALREADY_THERE, "source already removed")
        return FileOutcome(name, MISSING, f"no file at {path}")
    local = file_sha256(path)
    if hashes and local not in hashes:
        return FileOutcome(name, MISMATCH, f"local file hashes {local[:12]}, the row records {min(hashes)[:12]}")
    if stored_sha256(name) == local:
        outcome = FileOutcome(name, ALREADY_THERE)
    elif dry_run:
        return FileOutcome(name, WOULD_COPY)
    else:
        stored_copy_from_local(name, path)
        stored = stored_sha256(name)
        if stored != local:
            return FileOutcome(name, MISMATCH, f"the bucket's copy hashes {(stored or 'nothing')[:12]}")
        outcome = FileOutcome(name, COPIED)
    if delete_source and not dry_run:
        path.unlink()
        return FileOutcome(name, outcome.outcome, "source deleted")
    return outcome


def _unreferenced(source: Path, referenced: set[str]) -> Iterator[FileOutcome]:
    cache = cache_root().resolve()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        # Dot folders are the host's own (the read-through cache, readiness probes), never stored files.
        if not path.is_file() or any(part.startswith(".") for part in relative.parts) or cache in path.parents:
            continue
        if relative.as_posix() not in referenced:
            yield FileOutcome(relative.as_posix(), UNREFERENCED, "left alone")


def stored_files_migrate(*, source: Path, delete_source: bool = False, dry_run: bool = False) -> Iterator[FileOutcome]:
    """Copy every referenced file from `source` into the bucket and verify it; yield one outcome per file."""
    _check_source(source)
    expected = referenced_files()
    for name in sorted(expected):
        try:
            path = local_file_in(source, name)
        except UnsafeStoredName as exc:
            yield FileOutcome(name, UNSAFE, str(exc))
            continue
        result = _migrate_one(name, path, expected[name], delete_source=delete_source, dry_run=dry_run)
        if result.outcome in FAILURES:
            logger.warning("storage migrate: %s %s (%s)", result.outcome, name, result.detail)
        yield result
    yield from _unreferenced(source, set(expected))
