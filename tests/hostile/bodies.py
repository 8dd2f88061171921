"""Hostile request bodies for the prediction API, the MLflow scoring endpoint and feedback, built in code.

Each body names the statuses the endpoint may answer and words its message must contain. A body with
`{pid}` in it is filled in with the id of a real logged prediction, so the feedback write is reached.
"""

import gzip
import json
from dataclasses import dataclass

JSON = "application/json"
CSV = "text/csv"
OK = (200,)
BAD = (400,)


@dataclass(frozen=True)
class HostileBody:
    endpoint: str  # "predict", "invocations" or "feedback"
    body: bytes
    statuses: tuple[int, ...]
    says: tuple[str, ...] = ()
    content_type: str = JSON


def _row(**values: object) -> dict:
    return {"x1": 0.5, "x2": 0.1, "colour": "red", **values}


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> bytes:
    return b'{"records": [' + b"[" * depth + b"]" * depth + b"]}"


def _predict(**values: object) -> bytes:
    return _json({"records": [_row(**values)]})


def _raw_record(fragment: str) -> bytes:
    """A predict body whose x1 is `fragment` verbatim (for JSON that json.dumps will not write)."""
    return ('{"records": [{"x1": ' + fragment + ', "x2": 0.1, "colour": "red"}]}').encode()


def _split(columns: list, data: list) -> bytes:
    return _json({"dataframe_split": {"columns": columns, "data": data}})


def _feedback(actual_json: str, pid: str = "{pid}") -> bytes:
    return ('{"feedback": [{"prediction_id": "' + pid + '", "actual": ' + actual_json + "}]}").encode()


BODIES: dict[str, HostileBody] = {
    # --- /predict ---------------------------------------------------------------------------------------
    "predict: JSON nested 50 levels": HostileBody("predict", _nested(50), BAD, ("nested",)),
    "predict: JSON nested 100,000 levels": HostileBody("predict", _nested(100_000), BAD, ("nested",)),
    "predict: NaN": HostileBody("predict", _raw_record("NaN"), BAD, ("nan",)),
    "predict: Infinity": HostileBody("predict", _raw_record("Infinity"), BAD, ("infinity",)),
    "predict: -Infinity": HostileBody("predict", _raw_record("-Infinity"), BAD, ("infinity",)),
    "predict: 1e999 overflows to infinity": HostileBody("predict", _raw_record("1e999"), BAD, ("infinities",)),
    "predict: a 400-digit integer": HostileBody("predict", _raw_record("1" * 400), BAD, ("finite",)),
    "predict: a 5,000-digit integer": HostileBody("predict", _raw_record("9" * 5000), BAD, ("json",)),
    "predict: records is an object": HostileBody("predict", _json({"records": {}}), BAD, ("records",)),
    "predict: records of numbers": HostileBody("predict", _json({"records": [1, 2]}), BAD, ("object",)),
    "predict: records of nulls": HostileBody("predict", _json({"records": [None]}), BAD, ("object",)),
    "predict: records of lists": HostileBody("predict", _json({"records": [[]]}), BAD, ("object",)),
    "predict: a bare list": HostileBody("predict", _json([_row()]), BAD, ("records",)),
    "predict: JSON null": HostileBody("predict", b"null", BAD, ("records",)),
    "predict: empty body": HostileBody("predict", b"", BAD, ("json",)),
    "predict: not JSON": HostileBody("predict", b"hello, world", BAD, ("json",)),
    "predict: invalid UTF-8": HostileBody("predict", b'{"records": [{"colour": "\xff\xfe"}]}', BAD, ("json",)),
    "predict: UTF-16 JSON": HostileBody("predict", json.dumps({"records": [_row()]}).encode("utf-16"), BAD, ("json",)),
    "predict: BOM before JSON": HostileBody("predict", b"\xef\xbb\xbf" + _predict(), BAD, ("json",)),
    "predict: NUL in a text value": HostileBody("predict", _predict(colour="re\u0000d"), BAD, ("nul",)),
    "predict: lone surrogate in a value": HostileBody(
        "predict", b'{"records": [{"x1": 0.5, "x2": 0.1, "colour": "\\ud800"}]}', BAD, ("surrogate",)
    ),
    "predict: surrogate pair is an emoji": HostileBody(
        "predict", b'{"records": [{"x1": 0.5, "x2": 0.1, "colour": "\\ud83d\\ude00"}]}', OK
    ),
    "predict: NUL in a key": HostileBody(
        "predict", b'{"records": [{"x1": 0.5, "x2": 0.1, "colour": "red", "a\\u0000": 1}]}', BAD, ("nul",)
    ),
    "predict: escaped backslash before u0000 is plain text": HostileBody(
        "predict", b'{"records": [{"x1": 0.5, "x2": 0.1, "colour": "\\\\u0000"}]}', OK
    ),
    "predict: lone surrogate in a key": HostileBody(
        "predict", b'{"records": [{"x1": 0.5, "x2": 0.1, "colour": "red", "\\udfff": 1}]}', BAD, ("surrogate",)
    ),
    "predict: a 1 MB text value": HostileBody("predict", _predict(colour="z" * 1_000_000), OK),
    "predict: script and template text": HostileBody(
        "predict", _predict(colour="<script>alert(1)</script>{{ 7*7 }}", **{"<script>": "x"}), OK
    ),
    "predict: 1,001 records": HostileBody("predict", _json({"records": [_row()] * 1001}), BAD, ("1000",)),
    "predict: body over the size limit": HostileBody(
        "predict", _json({"records": [_row(pad="p" * 3_000_000)]}), (413,), ("larger",)
    ),
    "predict: number as text": HostileBody("predict", _predict(x1="1e5"), BAD, ("number",)),
    "predict: number as an object": HostileBody("predict", _predict(x1={"$gt": 1}), BAD, ("number",)),
    "predict: category as a list": HostileBody("predict", _predict(colour=["red"]), BAD, ("single value",)),
    "predict: explain as text": HostileBody(
        "predict", _json({"records": [_row()], "explain": "yes"}), BAD, ("true or false",)
    ),
    "predict: text/plain": HostileBody("predict", _predict(), (415,), ("text/plain",), "text/plain"),
    "predict: form encoded": HostileBody(
        "predict", b"records=1", (415,), ("unsupported",), "application/x-www-form-urlencoded"
    ),
    "predict: XML": HostileBody(
        "predict", b"<records><x1>1</x1></records>", (415,), ("unsupported",), "application/xml"
    ),
    # --- /invocations -----------------------------------------------------------------------------------
    "invocations: split rows of the wrong width": HostileBody(
        "invocations", _split(["x1", "x2", "colour"], [[1]]), BAD, ("3 values",)
    ),
    "invocations: split data not a list": HostileBody(
        "invocations", _json({"dataframe_split": {"columns": ["x1"], "data": 5}}), BAD, ("list of rows",)
    ),
    "invocations: split column names not text": HostileBody(
        "invocations", _split([1, 2, 3], [[1, 2, 3]]), BAD, ("column names",)
    ),
    "invocations: split with duplicate columns": HostileBody(
        "invocations", _split(["x1", "x1", "x2", "colour"], [[1, 2, 3, "red"]]), OK + BAD
    ),
    "invocations: records with NaN are missing values": HostileBody(
        "invocations", b'{"dataframe_records": [{"x1": NaN, "x2": 0.1, "colour": "red"}]}', OK
    ),
    "invocations: Infinity": HostileBody(
        "invocations", b'{"dataframe_records": [{"x1": Infinity, "x2": 0.1, "colour": "red"}]}', BAD, ("infinity",)
    ),
    "invocations: 1e999": HostileBody(
        "invocations", b'{"dataframe_records": [{"x1": 1e999, "x2": 0.1, "colour": "red"}]}', BAD, ("infinities",)
    ),
    "invocations: instances is a number": HostileBody("invocations", _json({"instances": 5}), BAD, ("objects",)),
    "invocations: inputs nested deeply": HostileBody(
        "invocations", b'{"inputs": ' + b"[" * 5000 + b"]" * 5000 + b"}", BAD, ("nested",)
    ),
    "invocations: two formats at once": HostileBody(
        "invocations", _json({"instances": [_row()], "inputs": [_row()]}), BAD, ("exactly one",)
    ),
    "invocations: unknown format": HostileBody("invocations", _json({"rows": [_row()]}), BAD, ("exactly one",)),
    "invocations: a bare list": HostileBody("invocations", _json([_row()]), BAD, ("dictionary",)),
    "invocations: columnar instances of unequal length": HostileBody(
        "invocations", _json({"instances": {"x1": [1, 2], "x2": [1], "colour": ["red"]}}), BAD, ("same number",)
    ),
    "invocations: params not an object": HostileBody(
        "invocations", _json({"instances": [_row()], "params": [1]}), BAD, ("params",)
    ),
    "invocations: lone surrogate": HostileBody(
        "invocations", b'{"dataframe_records": [{"x1": 1, "x2": 0.1, "colour": "\\ud800"}]}', BAD, ("surrogate",)
    ),
    "invocations: csv ragged": HostileBody("invocations", b"x1,x2,colour\n1,2,red,extra\n", BAD, ("4 values",), CSV),
    "invocations: csv extra value in a later row": HostileBody(
        "invocations", b"x1,x2,colour\n1,2,red\n3,4,blue,x\n", BAD, ("line 3",), CSV
    ),
    "invocations: csv 200 KB cell": HostileBody(
        "invocations", b"x1,x2,colour\n1,2," + b"r" * 200_000 + b"\n", OK, (), CSV
    ),
    "invocations: csv gzip": HostileBody("invocations", gzip.compress(b"x1,x2,colour\n1,2,red\n"), BAD, (), CSV),
    "invocations: csv empty": HostileBody("invocations", b"", BAD, ("empty",), CSV),
    "invocations: csv blank lines": HostileBody("invocations", b"\n\n  \n", BAD, ("empty",), CSV),
    "invocations: csv header only": HostileBody("invocations", b"x1,x2,colour\n", BAD, ("non-empty",), CSV),
    "invocations: csv 20,000 columns": HostileBody(
        "invocations",
        (",".join(f"c{i}" for i in range(20_000)) + "\n" + "1," * 19_999 + "1\n").encode(),
        BAD,
        ("5,000",),
        CSV,
    ),
    "invocations: csv NUL bytes": HostileBody("invocations", b"x1,x2,colour\n1,2,r\x00ed\n", BAD, ("nul",), CSV),
    "invocations: csv invalid UTF-8": HostileBody("invocations", b"x1,x2,colour\n1,2,r\xffd\n", OK + BAD, (), CSV),
    "invocations: csv formulas": HostileBody("invocations", b"x1,x2,colour\n1,2,=cmd|' /C calc'!A0\n", OK, (), CSV),
    "invocations: csv quotes unbalanced": HostileBody("invocations", b'x1,x2,colour\n1,2,"red\n', BAD, (), CSV),
    "invocations: XML": HostileBody("invocations", b"<x/>", (415,), ("unsupported",), "application/xml"),
    # --- /feedback --------------------------------------------------------------------------------------
    "feedback: id not a UUID": HostileBody("feedback", _feedback('"yes"', pid="../../etc/passwd"), BAD, ("uuid",)),
    "feedback: actual NaN": HostileBody("feedback", _feedback("NaN"), BAD, ("nan",)),
    "feedback: actual nested deeply": HostileBody("feedback", _feedback("[" * 3000 + "]" * 3000), BAD, ("nested",)),
    "feedback: actual with a NUL": HostileBody("feedback", _feedback('"ye\\u0000s"'), BAD, ("nul",)),
    "feedback: actual lone surrogate": HostileBody("feedback", _feedback('"\\ud800"'), BAD, ("surrogate",)),
    "feedback: actual a large object": HostileBody("feedback", _feedback(json.dumps({"k": "v" * 500_000})), OK + BAD),
    "feedback: empty list": HostileBody("feedback", _json({"feedback": []}), BAD, ("empty",)),
    "feedback: 1,001 outcomes": HostileBody(
        "feedback", _json({"feedback": [{"prediction_id": "0" * 32, "actual": 1}] * 1001}), BAD, ("1000",)
    ),
    "feedback: not a list": HostileBody("feedback", _json({"feedback": "yes"}), BAD, ("list",)),
    "feedback: unknown id is listed, not an error": HostileBody(
        "feedback", _feedback('"yes"', pid="00000000-0000-0000-0000-000000000000"), OK
    ),
}
