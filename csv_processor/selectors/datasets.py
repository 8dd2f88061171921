"""Reads for csv_processor. An id from a URL reaches an object only through a `*_get_for_user` here."""

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
from django.db.models import Max, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from csv_processor.ml.csv.parquet_source import read_parquet_head
from csv_processor.ml.csv.reader import CsvParseError, ParseOptions, read_csv_sniffed
from csv_processor.ml.csv.tables import iter_csv_chunks, read_page
from csv_processor.ml.csv.workbook import read_sheet
from csv_processor.ml.types import infer_column_types
from csv_processor.models import CleaningJob, Dataset, DatasetVersion, TargetExploration, Upload, WorkerHeartbeat
from csv_processor.models.datasets import target_key_of
from csv_processor.storage import parquet_file, stored_local_path
from users.models import User

PAGE_ROWS = 50
CELL_CHARS = 200


@dataclass(frozen=True)
class Cell:
    text: str
    missing: bool = False
    numeric: bool = False


@dataclass(frozen=True)
class TableView:
    columns: list[dict]
    rows: list[list[Cell]]
    total_rows: int
    offset: int
    error: str = ""
    positions: tuple[int, ...] = ()

    @property
    def numbered_rows(self) -> list[tuple[int | None, list[Cell]]]:
        """Rows with their position in the whole table (None where unknown, as in a parse preview)."""
        positions = self.positions or (None,) * len(self.rows)
        return list(zip(positions, self.rows, strict=True))

    @property
    def first_row(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.offset + len(self.rows)

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total_rows / PAGE_ROWS))


def worker_last_seen_seconds() -> float | None:
    """Seconds since any worker last reported, or None if none ever did."""
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen_at"))["last"]
    if last_seen is None:
        return None
    return (timezone.now() - last_seen).total_seconds()


def user_storage_used(*, user: User) -> int:
    uploads = Upload.objects.filter(owner=user).aggregate(total=Sum("size_bytes"))["total"] or 0
    versions = DatasetVersion.objects.filter(dataset__owner=user).aggregate(total=Sum("size_bytes"))["total"] or 0
    return uploads + versions


def dataset_list(*, user: User) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user).select_related("current_version")


def dataset_get_for_user(*, user: User, dataset_id: int) -> Dataset:
    dataset = Dataset.objects.filter(owner=user, pk=dataset_id).select_related("current_version").first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def dataset_version_get_for_user(*, user: User, dataset_id: int, number: int | None = None) -> DatasetVersion:
    dataset = dataset_get_for_user(user=user, dataset_id=dataset_id)
    if number is None:
        if dataset.current_version is None:
            raise Http404("This dataset has no version yet.")
        return dataset.current_version
    version = dataset.versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def upload_get_for_user(*, user: User, upload_id: int) -> Upload:
    upload = Upload.objects.filter(owner=user, pk=upload_id).first()
    if upload is None:
        raise Http404("No such upload.")
    return upload


def _cell(value: object) -> Cell:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or value is pd.NA:
        return Cell("", missing=True)
    if isinstance(value, bool):
        return Cell(str(value))
    if isinstance(value, int | float):
        return Cell(f"{value:g}" if isinstance(value, float) else str(value), numeric=True)
    text = str(value)
    return Cell(text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…")


def _rows(frame: pd.DataFrame) -> list[list[Cell]]:
    return [[_cell(value) for value in row] for row in frame.itertuples(index=False, name=None)]


def upload_preview(*, upload: Upload, options: dict | None = None, rows: int = 20) -> TableView:
    """The first rows as parsed with the given (or stored) options (a CSV's settings, a workbook's sheet), or
    the problem in plain words."""
    chosen = options if options is not None else upload.parse_options
    try:
        frame = _upload_head(upload, chosen, rows)
    except (CsvParseError, ValueError, TypeError) as exc:
        return TableView(columns=[], rows=[], total_rows=0, offset=0, error=str(exc))
    columns = [
        {"name": column.name, "kind": column.kind, "missing": column.missing, "suggestion": column.suggestion}
        for column in infer_column_types(frame)
    ]
    return TableView(columns=columns, rows=_rows(frame), total_rows=len(frame), offset=0)


def _upload_head(upload: Upload, options: dict, rows: int) -> pd.DataFrame:
    path = stored_local_path(upload.file)
    if upload.source_format == Upload.Format.XLSX:
        sheet = str(options.get("sheet", ""))
        if sheet not in upload.parse_options.get("sheets", ()):
            raise ValueError("Choose one of the workbook's sheets.")
        return read_sheet(path, sheet, nrows=rows)
    if upload.source_format == Upload.Format.PARQUET:
        return read_parquet_head(path, nrows=rows)
    return read_csv_sniffed(path, ParseOptions.from_dict(options), nrows=rows)


def dataset_version_frame(*, version: DatasetVersion, columns: list[str] | None = None) -> pd.DataFrame:
    """The version's own rows as the user sees them (only `columns`, read alone from the Parquet file,
    when given): the one place a whole version is read."""
    return pd.read_parquet(stored_local_path(version.file), columns=list(columns) if columns is not None else None)


def dataset_version_page(
    *,
    version: DatasetVersion,
    page: int,
    sort: str | None = None,
    descending: bool = False,
    filter_column: str | None = None,
    filter_text: str = "",
) -> TableView:
    """One page of a version, read from its Parquet file without loading the rest."""
    names = [column["name"] for column in version.schema]
    sort = sort if sort in names else None
    contains = (
        (filter_column, filter_text) if filter_column is not None and filter_column in names and filter_text else None
    )
    offset = (max(page, 1) - 1) * PAGE_ROWS
    result = read_page(
        parquet_file(version.file),
        offset=offset,
        limit=PAGE_ROWS,
        sort_by=sort,
        descending=descending,
        contains=contains,
    )
    return TableView(
        columns=version.schema,
        rows=_rows(result.frame),
        total_rows=result.total_rows,
        offset=offset,
        positions=result.positions,
    )


def dataset_version_csv_chunks(*, version: DatasetVersion) -> Iterator[str]:
    """The version as CSV text; the file is opened now, so a missing one fails before the response starts."""
    return iter_csv_chunks(parquet_file(version.file))


def dataset_version_download_name(*, version: DatasetVersion, suffix: str) -> str:
    """A safe file name for downloads: letters, digits, dot, dash and underscore only."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", version.dataset.name).strip("._") or "dataset"
    return f"{stem[:80]}-v{version.number}{suffix}"


def dataset_version_chain(*, version: DatasetVersion) -> list[DatasetVersion]:
    """The versions from the parse (version 1) down to this one, oldest first."""
    chain = [version]
    while chain[-1].parent_id is not None:
        chain.append(DatasetVersion.objects.get(pk=chain[-1].parent_id))
    return chain[::-1]


def dataset_version_recipe(*, version: DatasetVersion) -> list[dict]:
    """The cleaning steps that made this version from the parse, oldest first, as Step dicts.

    Replayed with `apply_recipe(training=False)` they turn raw rows like the upload's into rows like this
    version's (row filters are training-only and skipped then).
    """
    return [
        item.produced_by["step"]
        for item in dataset_version_chain(version=version)
        if item.produced_by.get("kind") == "clean"
    ]


# Worth doing first: suggestions the model is sure of that change what a model can learn from. The rest are
# `optional` (behind "show more"): unsure ones, text made a category (training reads such text as categories
# already) and outliers capped (extreme values are often real, which only the user can tell).
SUGGESTION_MIN_CONFIDENCE = 0.8
OPTIONAL_SUGGESTIONS = frozenset({"to_category", "clip_outliers"})


def dataset_suggestions(*, dataset: Dataset, version: DatasetVersion) -> list[dict]:
    """The version's cleaning suggestions the user has not set aside: those worth doing first, then the
    optional ones, most confident first within each."""
    dismissed = set(dataset.dismissed_suggestions)
    items = [dict(s) for s in version.suggestions or [] if f"{s['column']}\x1f{s['action']}" not in dismissed]
    for item in items:
        # The cleaning page opens with the suggested step filled in.
        step = item.get("step") or {}
        item["preview_query"] = urlencode({"op": step.get("op", ""), **step.get("params", {})}, doseq=True)
        item["optional"] = item["confidence"] < SUGGESTION_MIN_CONFIDENCE or item["action"] in OPTIONAL_SUGGESTIONS
    return sorted(items, key=lambda s: (s["optional"], -s["confidence"]))


def cleaning_job_get_for_user(*, user: User, job_id: int) -> CleaningJob:
    job = CleaningJob.objects.filter(owner=user, pk=job_id).select_related("dataset").first()
    if job is None:
        raise Http404("No such cleaning job.")
    return job


def target_exploration_find(
    *, version: DatasetVersion, target: str, problem_type: str | None = None
) -> TargetExploration | None:
    """The exploration of `version` against `target` (for `problem_type`, or the latest asked for any)."""
    explorations = TargetExploration.objects.filter(version=version, target_key=target_key_of(target))
    if problem_type:
        explorations = explorations.filter(problem_type=problem_type)
    return explorations.order_by("-created_at").first()
