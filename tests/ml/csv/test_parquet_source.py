"""Parquet files in: the footer is checked first, then rows are copied with the CSV path's names and types."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from csv_processor.ml.csv import parquet_source
from csv_processor.ml.csv.parquet_source import (
    ParquetRefused,
    inspect_parquet,
    parquet_to_version,
    read_parquet_head,
)


def write_table(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def test_parquet_to_version_normalises_names_and_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            " id ": pa.array([1, 2, 3], pa.int16()),
            "id": pa.array(["a", "b", None]).dictionary_encode(),
            "": pa.array([1.5, None, 2.0], pa.float32()),
            "price": pa.array([1, 2, 3], pa.decimal128(6, 2)),
            "day": pa.array([dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)]),
            "ok": pa.array([True, False, None]),
        }
    )
    source = write_table(tmp_path / "in.parquet", table)
    out = tmp_path / "v1.parquet"

    summary = parquet_to_version(source, out)

    assert summary.rows == 3
    assert summary.column_names == ("id", "id_2", "column_3", "price", "day", "ok")
    schema = pq.read_schema(out)
    assert [str(field.type) for field in schema] == ["int64", "string", "double", "double", "timestamp[us]", "bool"]
    frame = pd.read_parquet(out)
    assert frame["id_2"].tolist()[:2] == ["a", "b"]
    assert frame["price"].tolist() == [1.0, 2.0, 3.0]


def test_read_parquet_head_reads_only_the_first_rows(tmp_path: Path) -> None:
    source = write_table(tmp_path / "in.parquet", pa.table({"x": list(range(1000))}))

    frame = read_parquet_head(source, nrows=20)

    assert frame["x"].tolist() == list(range(20))


@pytest.mark.parametrize(
    "body",
    [b"PAR1" + b"\x00" * 50 + b"PAR1", b"PAR1 this is not parquet", b""],
    ids=["bad footer", "no footer", "empty"],
)
def test_a_damaged_file_is_refused(body: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(body)

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(path)
    assert "not a valid Parquet file" in str(info.value)


def test_nested_columns_are_refused_by_name(tmp_path: Path) -> None:
    source = write_table(tmp_path / "in.parquet", pa.table({"tags": [["a"], ["b", "c"]], "n": [1, 2]}))

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(source)
    assert "tags" in str(info.value)


def test_too_many_columns_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_source, "MAX_COLUMNS", 3)
    source = write_table(tmp_path / "in.parquet", pa.table({f"c{i}": [i] for i in range(4)}))

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(source)
    assert "4 columns" in str(info.value)


def test_run_length_packed_rows_past_the_cell_cap_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_source, "MAX_CELLS", 50_000)
    source = write_table(tmp_path / "in.parquet", pa.table({"x": [0] * 100_000}))

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(source)
    assert "100,000 rows" in str(info.value)
    assert source.stat().st_size < 10_000


def test_data_expanding_past_the_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_source, "MAX_EXPANDED_BYTES", 1000)
    source = write_table(tmp_path / "in.parquet", pa.table({"x": [f"text {i}" for i in range(10_000)]}))

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(source)
    assert "expands to" in str(info.value)


def test_an_empty_table_is_refused(tmp_path: Path) -> None:
    source = write_table(tmp_path / "in.parquet", pa.table({"x": pa.array([], pa.int64())}))

    with pytest.raises(ParquetRefused) as info:
        inspect_parquet(source)
    assert "no rows" in str(info.value)


def test_unsigned_values_past_int64_are_refused_when_copied(tmp_path: Path) -> None:
    source = write_table(tmp_path / "in.parquet", pa.table({"big": pa.array([2**63 + 5], pa.uint64())}))

    with pytest.raises(ParquetRefused) as info:
        parquet_to_version(source, tmp_path / "out.parquet")
    assert "big" in str(info.value)
    assert not (tmp_path / "out.parquet").exists()
