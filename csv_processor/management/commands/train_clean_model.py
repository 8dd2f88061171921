"""`manage.py train_clean_model [--seed N] [--if-missing]`: (re)train the SimpleCleanModel."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from csv_processor.models import CleanModelArtifact
from csv_processor.services.cleaning.suggestions import suggestion_model_train


class Command(BaseCommand):
    help = "Train the cleaning-suggestion model from the project's own data and store it with its hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--if-missing", action="store_true", help="Do nothing if a model is already stored.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_missing"] and CleanModelArtifact.objects.exists():
            self.stdout.write(json.dumps({"trained": False, "reason": "a model is already stored"}))
            return
        artifact = suggestion_model_train(seed=options["seed"])
        summary = {"trained": True, "sha256": artifact.sha256, "held_out_accuracy": artifact.held_out_accuracy}
        self.stdout.write(json.dumps(summary))
