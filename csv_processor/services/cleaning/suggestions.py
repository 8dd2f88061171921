"""The SimpleCleanModel: trained by the app, stored with its SHA-256, checked on every load, cached per process."""

import hashlib
import logging
import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from csv_processor.ml.cleaning.suggest.model import CleanModel, evaluate_on_labelled, train_clean_model
from csv_processor.models import CleanModelArtifact
from csv_processor.storage import file_name_new, file_path

logger = logging.getLogger(__name__)

_cache: dict[str, CleanModel] = {}
_trained: dict[int, tuple[bytes, float]] = {}
_lock = threading.Lock()


def _trained_bytes(seed: int) -> tuple[bytes, float]:
    """Training is deterministic for a seed, so a process trains each seed once."""
    if seed not in _trained:
        model = train_clean_model(seed=seed)
        _trained[seed] = (model.to_bytes(), evaluate_on_labelled(model))
    return _trained[seed]


def clean_model_train(*, seed: int = 0) -> CleanModelArtifact:
    """Train the model from the project's own data, store it and record its hash."""
    data, accuracy = _trained_bytes(seed)
    name = file_name_new(folder="models", suffix=".joblib")
    file_path(name).write_bytes(data)
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


def clean_model_get() -> CleanModel:
    """The latest stored model, trained on first use; refuses a file whose hash does not match."""
    artifact = CleanModelArtifact.objects.first()
    if artifact is not None and not file_path(artifact.file.name).exists():
        # A lost media volume: the model is the project's own and cheap to rebuild, unlike a changed file.
        logger.warning("stored cleaning model %s is missing; training it again", artifact.sha256[:12])
        artifact = None
    if artifact is None:
        artifact = clean_model_train()
    with _lock:
        cached = _cache.get(artifact.sha256)
        if cached is not None:
            return cached
        data = file_path(artifact.file.name).read_bytes()
        if hashlib.sha256(data).hexdigest() != artifact.sha256:
            raise ImproperlyConfigured(
                "The stored cleaning model does not match its recorded hash; run `manage.py train_clean_model`."
            )
        _cache.clear()
        _cache[artifact.sha256] = CleanModel.from_bytes(data)
        return _cache[artifact.sha256]
