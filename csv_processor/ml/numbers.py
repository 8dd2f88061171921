"""Read numbers that people wrote for people: "1,000", "$4.99", "19M", "(42)", "12%".

Each distinct value is parsed once (factorize first), with one RE2 regular expression run by
pyarrow, so a million rows with a few thousand distinct strings cost a few milliseconds.
"""

import logging
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

logger = logging.getLogger(__name__)

# Suffix multipliers. Lower-case "m" is left out on purpose: it means minutes or metres as often as millions.
MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
CURRENCY = "$€£¥₩₹"
# Trimmed from values: everything the pattern's whitespace matches (RE2's \s is [\t\n\f\r ]), so a value
# the pattern accepts always casts ("12\n" once stopped a parse with an error).
_SPACES = " \t\n\r\f\u00a0\u202f"
# RE2 \s is ASCII only: add the no-break spaces that Excel and European locales write.
_WS = r"[\s\x{00A0}\x{202F}]*"
_THOUSANDS = {".": (",",), ",": (".", " ", "\u00a0", "\u202f", "'")}


def _pattern(decimal: str) -> str:
    """One anchored regex for the whole value: sign, currency, digits, multiplier, '+', '%', parentheses."""
    if decimal not in _THOUSANDS:
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")
    sep = "[" + "".join(re.escape(c) for c in _THOUSANDS[decimal]) + "]"
    # Thousands groups must be exact (1,000 not 1,00) so "1,5" is not silently read as 15.
    dec = re.escape(decimal)
    num = rf"(?:(?:\d{{1,3}}(?:{sep}\d{{3}})+|\d+)(?:{dec}\d*)?|{dec}\d+)(?:[eE][-+]?\d+)?"
    cur = f"[{CURRENCY}]?"
    mult = f"[{''.join(MULTIPLIERS)}]?"
    # Parentheses must come in pairs: "(42)" is -42 but "(42" is not a number.
    body = _WS.join([r"[-+]?", cur, r"[-+]?", num, mult, r"\+?", "%?", cur])
    return rf"^{_WS}(?:\({_WS}{body}{_WS}\)|{body}){_WS}$"


def _parse_strings(values: pa.Array, decimal: str) -> np.ndarray:
    """Parse an arrow string array to float64; anything that does not match becomes NaN.

    Only matching, trimming and literal replacement: these run as a DFA or a scan in pyarrow,
    unlike capturing groups, which are several times slower on a million distinct values.
    """
    ok = pc.fill_null(pc.match_substring_regex(values, pattern=_pattern(decimal)), False)
    text = pc.utf8_trim(values, characters=_SPACES)
    negative = pc.or_(pc.starts_with(text, "("), pc.match_substring_regex(text, pattern=rf"^[{CURRENCY}]?{_WS}-"))
    core = pc.utf8_ltrim(text, characters="(-+" + CURRENCY + _SPACES)
    core = pc.utf8_rtrim(core, characters=")+%" + CURRENCY + _SPACES)
    factor_index = pc.index_in(pc.utf8_slice_codeunits(core, -1), value_set=pa.array(list(MULTIPLIERS)))
    has_factor = pc.is_valid(factor_index)
    core = pc.if_else(has_factor, pc.utf8_slice_codeunits(core, 0, -1), core)
    core = pc.utf8_rtrim(core, characters=_SPACES)  # "19 M": the space before the multiplier
    for sep in _THOUSANDS[decimal]:
        core = pc.replace_substring(core, pattern=sep, replacement="")
    if decimal == ",":
        core = pc.replace_substring(core, pattern=",", replacement=".")
    number = pc.cast(pc.if_else(ok, core, pa.scalar(None, pa.string())), pa.float64())
    factors = np.append(np.array(list(MULTIPLIERS.values())), 1.0)
    factor = factors[pc.fill_null(factor_index, len(MULTIPLIERS)).to_numpy(zero_copy_only=False)]
    sign = np.where(pc.fill_null(negative, False).to_numpy(zero_copy_only=False), -1.0, 1.0)
    return sign * number.to_numpy(zero_copy_only=False) * factor


def factorize_text(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Codes into the distinct non-missing values (-1 for missing) and those values as arrow strings."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if ptypes.is_string_dtype(uniques.dtype) and not ptypes.is_object_dtype(uniques.dtype):
        return codes, pa.array(uniques, type=pa.string())
    # Object columns can mix str, int and float: read every value as the text it would be in a CSV.
    texts = [v if isinstance(v, str) else str(v) for v in np.asarray(uniques, dtype=object)]
    return codes, pa.array(texts, type=pa.string())


def _take(parsed: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)


def _is_plain_numeric(series: pd.Series) -> bool:
    return ptypes.is_bool_dtype(series.dtype) or (
        ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_complex_dtype(series.dtype)
    )


def parse_numbers(series: pd.Series, *, decimal: str = ".") -> pd.Series:
    """Return `series` as float64, reading formatted numbers; values that are not numbers become NaN.

    Understood: thousands separators in exact groups of three ("1,000", "43,550"; with
    decimal="," also "1.000" and "1 000"), currency symbols ($ € £ ¥ ₩ ₹) before or after,
    multiplier suffixes k/K (thousand), M (million), B/G (billion), T (trillion), a trailing "+"
    ("1,000,000+" is 1,000,000), accounting negatives "(42)", surrounding whitespace and
    exponents ("1e3"). A percent sign is dropped and the number kept: "12%" is 12.0, not 0.12,
    so a column of percentages keeps the scale its author used. Blank strings become NaN.
    Numeric and boolean input is returned as float64 unchanged.
    """
    if _is_plain_numeric(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=series.index, name=series.name, dtype="float64")
    codes, texts = factorize_text(series)
    parsed = _parse_strings(texts, decimal)
    return pd.Series(_take(parsed, codes), index=series.index, name=series.name, dtype="float64")


def numeric_share(series: pd.Series, *, decimal: str = ".") -> float:
    """Share of the non-missing, non-blank values that parse_numbers can read (0.0 when there are none).

    Blank strings such as " " count as missing here, not as failures: they are empty cells that
    a CSV writer filled with spaces.
    """
    if _is_plain_numeric(series):
        return 1.0 if series.notna().any() else 0.0
    codes, texts = factorize_text(series)
    blank = pc.equal(pc.utf8_trim_whitespace(texts), "").to_numpy(zero_copy_only=False)
    parsed_ok = ~np.isnan(_parse_strings(texts, decimal))
    present = codes[codes >= 0]
    counts = np.bincount(present, minlength=len(texts))
    total = int(counts[~blank].sum())
    return float(counts[parsed_ok].sum() / total) if total else 0.0
