"""infer_column_types on the shared real datasets, read with the manifest's pandas.read_csv options."""

from functools import cache

import pandas as pd
import pytest

from csv_processor.ml.types import KINDS, infer_column_types
from tests.shared_datasets import SHARED_DATASETS, manifest_params, read_csv_options

pytestmark = pytest.mark.needs_shared_datasets


@cache
def read_dataset(file: str) -> pd.DataFrame:
    """The file as the manifest says to read it (plain pandas: the project's reader is tested elsewhere)."""
    return pd.read_csv(SHARED_DATASETS / file, **read_csv_options(file))


@cache
def types_of(file: str) -> dict[str, object]:
    return {column.name: column for column in infer_column_types(read_dataset(file))}


@pytest.mark.parametrize(
    ("file", "column", "kind"),
    [
        ("titanic_train.csv", "PassengerId", "identifier"),
        ("titanic_train.csv", "Name", "identifier"),
        ("titanic_train.csv", "Ticket", "identifier"),
        ("titanic_train.csv", "Sex", "categorical"),
        ("titanic_train.csv", "Embarked", "categorical"),
        ("titanic_train.csv", "Age", "float"),
        ("titanic_train.csv", "Survived", "integer"),
        ("telco_customer_churn.csv", "customerID", "identifier"),
        ("telco_customer_churn.csv", "Churn", "boolean"),
        ("telco_customer_churn.csv", "SeniorCitizen", "integer"),
        ("house_prices_train.csv", "Id", "identifier"),
        ("house_prices_train.csv", "CentralAir", "boolean"),
        ("penguins.csv", "body_mass_g", "integer"),
        ("iris.csv", "species", "categorical"),
        ("superstore_eu_cp1252.csv", "Product Name", "text"),
        ("superstore_eu_cp1252.csv", "Sales", "float"),
        ("nycflights13_flights.csv", "carrier", "categorical"),
        ("nycflights13_flights.csv", "dep_delay", "integer"),
    ],
)
def test_real_column_kind(file, column, kind):
    assert types_of(file)[column].kind == kind


@pytest.mark.parametrize(
    ("file", "column", "fragment"),
    [
        ("googleplaystore.csv", "Installs", '"1,000,000+"'),
        ("googleplaystore.csv", "Price", '"$0.99"'),
        ("googleplaystore.csv", "Reviews", '"3.0M"'),
        ("telco_customer_churn.csv", "TotalCharges", "blank cells become missing"),
    ],
)
def test_real_numbers_stored_as_text_are_numeric_candidates(file, column, fragment):
    found = types_of(file)[column]
    assert found.numeric_candidate
    assert found.dtype == "str"
    assert found.kind in ("integer", "float")
    assert fragment in found.suggestion
    assert found.suggestion.endswith("convert to number")


def test_real_play_store_size_notes_its_numeric_share():
    size = types_of("googleplaystore.csv")["Size"]
    assert not size.numeric_candidate
    assert "(84% of values)" in size.suggestion
    assert '"Varies with device"' in size.suggestion


@pytest.mark.parametrize(
    ("file", "column", "label"),
    [
        ("seattle-weather.csv", "date", "YYYY/MM/DD"),
        ("nycflights13_flights.csv", "time_hour", "ISO 8601"),
        ("superstore_eu_cp1252.csv", "Ship Date", "ISO 8601"),
        ("googleplaystore.csv", "Last Updated", "dd-Mon-yy or Month d, yyyy"),
    ],
)
def test_real_dates_stored_as_text_are_datetime_candidates(file, column, label):
    found = types_of(file)[column]
    assert (found.kind, found.datetime_candidate) == ("datetime", True)
    assert found.suggestion == f"Looks like dates ({label}): convert to datetime"


def test_real_air_quality_dates_are_day_first():
    frame = read_dataset("airquality_uci_eu_excel.csv").dropna(subset=["Date"]).iloc[:, :15]
    (date,) = [c for c in infer_column_types(frame) if c.name == "Date"]
    assert date.suggestion == "Looks like dates (dd/mm/yyyy): convert to datetime"


@pytest.mark.parametrize("entry", manifest_params())
def test_real_dataset_types_are_complete_and_consistent(entry):
    frame = read_dataset(entry["file"])
    types = infer_column_types(frame)
    assert [c.name for c in types] == [str(c) for c in frame.columns]
    for column, (_, series) in zip(types, frame.items(), strict=True):
        assert column.kind in KINDS
        assert column.missing == int(series.isna().sum())
        assert column.dtype == str(series.dtype)
        # A suggestion is only made for text, never for columns pandas already typed.
        assert column.suggestion is None or column.dtype in ("str", "object")
