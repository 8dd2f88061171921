"""`manage.py load_samples --owner USERNAME`: sample datasets from scikit-learn's bundled data."""

import json
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csv_processor.services.datasets.samples import SAMPLE_NAMES, dataset_samples_load


class Command(BaseCommand):
    help = "Create sample datasets (iris, wine, breast cancer, diabetes) for a user to try."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", required=True, help="Username of the owner.")
        parser.add_argument("--only", nargs="*", choices=SAMPLE_NAMES, help="Load only these samples.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user named {options['owner']!r}.")
        with tempfile.TemporaryDirectory() as folder:
            datasets = dataset_samples_load(owner=owner, folder=Path(folder), names=options["only"] or SAMPLE_NAMES)
        for dataset in datasets:
            self.stderr.write(f"created {dataset.name}: {dataset.current_version.row_count} rows")
        self.stdout.write(json.dumps([{"dataset_id": d.pk, "name": d.name} for d in datasets]))
