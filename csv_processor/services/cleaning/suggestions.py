"""The SimpleCleanModel: trained by the app, stored with its SHA-256, checked on every load, cached per process."""

import hashlib
import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from csv_processor.ml.cleaning.suggest.model import SuggestionModel, evaluate_on_labelled, train_suggestion_model
from csv_processor.models import CleanModelArtifact
from csv_processor.process_cache import LruCache
from csv_processor.storage import file_name_new, stored_exists, stored_local_path, stored_write

logger = logging.getLogger(__name__)

# The stored model in use, by its hash; a newer stored model replaces it.
_cache: LruCache[str, SuggestionModel] = LruCache(1)
# Training is deterministic for a seed, so a process trains each seed once.
_trained: LruCache[int, tuple[bytes, float]] = LruCache(4)


def _trained_bytes(seed: int) -> tuple[bytes, float]:
    return _trained.get_or_compute(seed, lambda: _train(seed))


def _train(seed: int) -> tuple[bytes, float]:
    model = train_suggestion_model(seed=seed)
    return model.to_bytes(), evaluate_on_labelled(model)


def suggestion_model_train(*, seed: int = 0) -> CleanModelArtifact:
    """Train the model from the project's own data, store it and record its hash."""
    data, accuracy = _trained_bytes(seed)
    name = file_name_new(folder="models", suffix=".joblib")
    with stored_write(name) as path:
        path.write_bytes(data)
    with transaction.atomic():
        artifact = CleanModelArtifact.objects.create(
            file=name,
            sha256=hashlib.sha256(data).hexdigest(),
            seed=seed,
            held_out_accuracy=accuracy,
        )
    logger.info(
        "SimpleCleanModel trained: %s (held-out accuracy %.3f)", artifact.sha256[:12], artifact.held_out_accuracy
    )
    return artifact


def suggestion_model_get() -> SuggestionModel:
    """The latest stored model, trained on first use; refuses a file whose hash does not match."""
    artifact = CleanModelArtifact.objects.first()
    if artifact is not None and not stored_exists(artifact.file):
        # A lost media volume: the model is the project's own and cheap to rebuild, unlike a changed file.
        logger.warning("stored cleaning model %s is missing; training it again", artifact.sha256[:12])
        artifact = None
    if artifact is None:
        artifact = suggestion_model_train()
    return _cache.get_or_compute(artifact.sha256, lambda: _read(artifact))


def _read(artifact: CleanModelArtifact) -> SuggestionModel:
    data = stored_local_path(artifact.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise ImproperlyConfigured(
            "The stored cleaning model does not match its recorded hash; run `manage.py train_clean_model`."
        )
    return SuggestionModel.from_bytes(data)
