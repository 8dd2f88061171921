"""`manage.py storage_migrate [--from DIR] [--dry-run] [--delete-source]`: local files into the bucket.

Resumable (a file the bucket holds with the same SHA-256 is skipped), verified (read back and hashed),
and the local files stay until --delete-source.
"""

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csv_processor.services.jobs.storage_migrate import FAILURES, StorageMigrateRefused, stored_files_migrate
from csv_processor.storage import StoreUnavailable, media_root


class Command(BaseCommand):
    help = "Copy the stored files the database refers to from a local media folder into the configured bucket."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", type=Path, help="Local media folder (default: MEDIA_ROOT).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be copied; copy nothing.")
        parser.add_argument(
            "--delete-source", action="store_true", help="Delete each local file once its copy is verified."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"] and options["delete_source"]:
            raise CommandError("--dry-run and --delete-source exclude each other.")
        source = options["source"] or media_root()
        counts: Counter[str] = Counter()
        try:
            for result in stored_files_migrate(
                source=source, delete_source=options["delete_source"], dry_run=options["dry_run"]
            ):
                counts[result.outcome] += 1
                detail = f" ({result.detail})" if result.detail else ""
                self.stdout.write(f"{result.outcome}: {result.name}{detail}")
        except StorageMigrateRefused as exc:
            raise CommandError(str(exc)) from exc
        except StoreUnavailable as exc:
            raise CommandError(f"{exc} Nothing more was copied; run the command again to resume.") from exc
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "no files"
        self.stdout.write(f"storage_migrate from {source}: {summary}")
        failed = sum(counts[outcome] for outcome in FAILURES)
        if failed:
            raise CommandError(f"{failed} file(s) were not migrated: see the lines above; the rest are verified.")
