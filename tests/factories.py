"""factory_boy factories for the models the tests need. Files they refer to really exist in the file store."""

import hashlib

import factory
import pandas as pd
from django.contrib.auth import get_user_model

from csv_processor.models import Dataset, DatasetVersion, DeployedModel, TrainingRun, Upload
from csv_processor.storage import file_name_new, stored_size, stored_write

DEFAULT_PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda obj: f"{obj.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def _parquet(frame: pd.DataFrame) -> str:
    """Store `frame` as a version file would be stored; return its storage name."""
    name = file_name_new(folder="versions", suffix=".parquet")
    with stored_write(name) as path:
        frame.to_parquet(path, index=False)
    return name


class DatasetFactory(factory.django.DjangoModelFactory):
    """A dataset with no versions; DatasetVersionFactory adds them (and makes the newest current)."""

    class Meta:
        model = Dataset

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"dataset {n}")


class DatasetVersionFactory(factory.django.DjangoModelFactory):
    """A version whose Parquet file really exists in the file store, holding `frame` (two columns by default)."""

    class Meta:
        model = DatasetVersion
        exclude = ("frame",)
        skip_postgeneration_save = True

    frame = factory.LazyFunction(lambda: pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "b", "a", "b"]}))
    dataset = factory.SubFactory(DatasetFactory)
    number = factory.LazyAttribute(lambda o: o.dataset.versions.count() + 1)
    file = factory.LazyAttribute(lambda o: _parquet(o.frame))
    size_bytes = factory.LazyAttribute(lambda o: stored_size(o.file))
    row_count = factory.LazyAttribute(lambda o: len(o.frame))
    column_count = factory.LazyAttribute(lambda o: o.frame.shape[1])
    schema = factory.LazyAttribute(lambda o: [{"name": str(c), "dtype": str(o.frame[c].dtype)} for c in o.frame])
    profile_status = DatasetVersion.ProfileStatus.READY

    @factory.post_generation
    def _make_current(obj, create, extracted, **kwargs):
        if create:
            Dataset.objects.filter(pk=obj.dataset_id).update(current_version=obj)
            obj.dataset.current_version = obj


class UploadFactory(factory.django.DjangoModelFactory):
    """An uploaded CSV waiting for the user's confirmation; its file really exists in the file store."""

    class Meta:
        model = Upload
        exclude = ("body",)

    body = b"x,label\n1,a\n2,b\n"
    owner = factory.SubFactory(UserFactory)
    original_name = "data.csv"
    file = factory.LazyAttribute(lambda o: _stored(o.body, "uploads", ".csv"))
    size_bytes = factory.LazyAttribute(lambda o: len(o.body))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body).hexdigest())


def _stored(body: bytes, folder: str, suffix: str) -> str:
    name = file_name_new(folder=folder, suffix=suffix)
    with stored_write(name) as path:
        path.write_bytes(body)
    return name


class TrainingRunFactory(factory.django.DjangoModelFactory):
    """A queued, exact run (3 candidates) on a version of the owner's dataset."""

    class Meta:
        model = TrainingRun

    dataset_version = factory.SubFactory(DatasetVersionFactory)
    owner = factory.LazyAttribute(lambda o: o.dataset_version.dataset.owner)
    target = "label"
    problem_type = TrainingRun.ProblemType.BINARY
    cv_folds = 3
    max_trials = 3


class DeployedModelFactory(factory.django.DjangoModelFactory):
    """A deployed model with no version yet (deploying a run gives it one: services.serving.deploy)."""

    class Meta:
        model = DeployedModel

    owner = factory.SubFactory(UserFactory)
    dataset = factory.SubFactory(DatasetFactory, owner=factory.SelfAttribute("..owner"))
    name = factory.Sequence(lambda n: f"model {n}")
    problem_type = "binary"
    target = "label"
