"""`manage.py import_csv FILE --owner USERNAME [--name NAME] [parse options]`."""

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csv_processor.services.datasets.imports import dataset_import_file


class Command(BaseCommand):
    help = "Import a CSV, .xlsx (its first sheet) or .parquet file as a dataset (the web upload's checks and parse)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--owner", required=True, help="Username of the owner.")
        parser.add_argument("--name", help="Dataset name (default: the file name).")
        parser.add_argument("--encoding")
        parser.add_argument("--delimiter", help="For a tab, pass '\\t'.")
        parser.add_argument("--quotechar")
        parser.add_argument("--decimal")
        parser.add_argument("--thousands")
        parser.add_argument("--no-header", action="store_true", help="The first row is data, not names.")
        parser.add_argument("--skip-initial-space", action="store_true")
        parser.add_argument("--na-values", help="Comma-separated extra values meaning missing.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user named {options['owner']!r}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            dataset = dataset_import_file(
                owner=owner,
                path=path,
                name=options["name"],
                options=_parse_options(options),
                on_progress=self._progress,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        version = dataset.current_version
        self.stderr.write("")
        summary = {
            "dataset_id": dataset.pk,
            "name": dataset.name,
            "rows": version.row_count,
            "columns": version.column_count,
        }
        self.stdout.write(json.dumps(summary))

    def _progress(self, share: float) -> None:
        bar = "#" * int(share * 30)
        self.stderr.write(f"\rparsing [{bar:<30}] {share:4.0%}", ending="")


def _parse_options(options: dict) -> dict:
    given: dict = {}
    for key in ("encoding", "quotechar", "decimal", "thousands"):
        if options[key] is not None:
            given[key] = options[key]
    if options["delimiter"] is not None:
        given["delimiter"] = "\t" if options["delimiter"] in {"\\t", "tab"} else options["delimiter"]
    if options["no_header"]:
        given["has_header"] = False
    if options["skip_initial_space"]:
        given["skip_initial_space"] = True
    if options["na_values"]:
        given["na_values"] = [value.strip() for value in options["na_values"].split(",") if value.strip()]
    return given
