"""What a step would do, computed on the real data without recording anything.

A conversion "loses" a value when a cell that held something (not missing, not blank) becomes
missing. When a conversion would lose more than CONFIRM_LOSS_SHARE (10%) of the column's
non-missing values, `needs_confirmation` is True and the web layer must ask before applying.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.ops import apply_step, kept_rows
from csv_processor.ml.cleaning.step import Step

logger = logging.getLogger(__name__)

CONFIRM_LOSS_SHARE = 0.10
CONVERSIONS = ("to_number", "to_datetime", "to_boolean")


@dataclass(frozen=True)
class StepPreview:
    description: str
    rows_before: int
    rows_after: int
    columns_before: int
    columns_after: int
    rows_affected: int
    cells_changed: int
    columns_affected: tuple[str, ...]
    before: pd.DataFrame
    after: pd.DataFrame
    warnings: tuple[str, ...]
    values_lost: int
    needs_confirmation: bool


def preview_step(df: pd.DataFrame, step: Step, *, sample_rows: int = 5) -> StepPreview:
    """Apply `step` to `df` and describe the difference (raises CleaningError as apply_step does)."""
    after = apply_step(df, step)
    if step.training_only:
        return _row_filter_preview(df, after, step, sample_rows)
    if step.op == "rename_column":
        return _rename_preview(df, after, step, sample_rows)
    return _column_preview(df, after, step, sample_rows)


def _row_filter_preview(df: pd.DataFrame, after: pd.DataFrame, step: Step, sample_rows: int) -> StepPreview:
    removed = ~kept_rows(df, step)
    count = int(removed.sum())
    warnings = []
    if count == 0:
        warnings.append("No rows match: nothing would change.")
    elif count == len(df):
        warnings.append("Every row would be deleted.")
    return StepPreview(
        description=step.describe(),
        rows_before=len(df),
        rows_after=len(after),
        columns_before=df.shape[1],
        columns_after=after.shape[1],
        rows_affected=count,
        cells_changed=count * df.shape[1],
        columns_affected=(),
        # Show the rows that go; after them, the first rows that stay.
        before=df[removed].head(sample_rows),
        after=after.head(sample_rows),
        warnings=tuple(warnings),
        values_lost=0,
        needs_confirmation=False,
    )


def _rename_preview(df: pd.DataFrame, after: pd.DataFrame, step: Step, sample_rows: int) -> StepPreview:
    old, new = step.params["column"], step.params["new_name"]
    return StepPreview(
        description=step.describe(),
        rows_before=len(df),
        rows_after=len(after),
        columns_before=df.shape[1],
        columns_after=after.shape[1],
        rows_affected=0,
        cells_changed=0,
        columns_affected=(old, new),
        before=df[[old]].head(sample_rows),
        after=after[[new]].head(sample_rows),
        warnings=(),
        values_lost=0,
        needs_confirmation=False,
    )


def _changed(before: pd.Series, after: pd.Series) -> np.ndarray:
    """Cells that differ; a type change counts every cell that is not missing on both sides."""
    both_missing = before.isna().to_numpy() & after.isna().to_numpy()
    if before.dtype != after.dtype:
        return ~both_missing
    equal = (before == after).to_numpy(dtype=bool, na_value=False)
    return ~(equal | both_missing)


def _column_preview(df: pd.DataFrame, after: pd.DataFrame, step: Step, sample_rows: int) -> StepPreview:
    added = [c for c in after.columns if c not in df.columns]
    dropped = [c for c in df.columns if c not in after.columns]
    touched = [c for c in step.columns if c in df.columns and c in after.columns]
    changed = np.zeros(len(df), dtype=bool)
    cells = 0
    for name in touched:
        mask = _changed(df[name], after[name])
        changed |= mask
        cells += int(mask.sum())
    for name in added:
        mask = after[name].notna().to_numpy()
        changed |= mask
        cells += int(mask.sum())
    lost, warnings = _losses(df, after, step)
    affected = tuple(dict.fromkeys([*(c for c in touched if _any(df[c], after[c])), *dropped, *added]))
    rows = int(changed.sum()) if not dropped else len(df)
    before_cols = [c for c in df.columns if c in affected]
    after_cols = [c for c in after.columns if c in affected]
    sample = changed if changed.any() else np.ones(len(df), dtype=bool)
    if not affected:
        warnings.append("Nothing would change.")
    return StepPreview(
        description=step.describe(),
        rows_before=len(df),
        rows_after=len(after),
        columns_before=df.shape[1],
        columns_after=after.shape[1],
        rows_affected=rows,
        cells_changed=cells + len(df) * len(dropped),
        columns_affected=affected,
        before=df.loc[sample, before_cols or list(df.columns)].head(sample_rows),
        after=after.loc[sample, after_cols or list(after.columns)].head(sample_rows),
        warnings=tuple(warnings),
        values_lost=lost,
        needs_confirmation=lost > CONFIRM_LOSS_SHARE * _present_count(df, step),
    )


def _any(before: pd.Series, after: pd.Series) -> bool:
    return bool(_changed(before, after).any())


def _present(series: pd.Series) -> np.ndarray:
    """Not missing and not blank: blank text is an empty cell, so converting it loses nothing."""
    present = series.notna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        present = present & (series.astype("str").str.strip() != "").to_numpy(dtype=bool, na_value=False)
    return present


def _present_count(df: pd.DataFrame, step: Step) -> int:
    if step.op not in CONVERSIONS:
        return 0
    return int(_present(df[step.params["column"]]).sum())


def _losses(df: pd.DataFrame, after: pd.DataFrame, step: Step) -> tuple[int, list[str]]:
    """Values a conversion would turn into missing, with a warning naming the commonest of them."""
    if step.op not in CONVERSIONS:
        return 0, []
    name = step.params["column"]
    lost_mask = _present(df[name]) & after[name].isna().to_numpy()
    lost = int(lost_mask.sum())
    if not lost:
        return 0, []
    total = int(_present(df[name]).sum())
    examples = df.loc[lost_mask, name].astype("str").value_counts().index[:3]
    shown = ", ".join(f'"{v}"' for v in examples)
    target = {"to_number": "numbers", "to_datetime": "dates", "to_boolean": "true/false"}[step.op]
    message = f'{lost} of {total} values in "{name}" cannot be read as {target} and would become missing'
    return lost, [f"{message} (e.g. {shown})."]
