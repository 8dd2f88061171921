"""A generated corpus of hostile uploads: every file is built in code, nothing binary lives in the repo.

Each case names what the app must do with it:
  refused   the upload is refused at the door with a message containing `says` (and nothing is kept)
  dataset   it becomes a dataset whose columns are `columns` (when given) and first row `first` (when given)
  failed    it is accepted for parsing, then the background parse fails with a message containing `says`
            (only large files, whose full parse runs in the worker)
"""

import bz2
import codecs
import gzip
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

REFUSED, DATASET, FAILED = "refused", "dataset", "failed"
SMALL = b"name,age,city\nAda,36,London\nGrace,45,New York\n"


@dataclass(frozen=True)
class HostileFile:
    filename: str
    build: Callable[[], bytes]
    outcome: str
    says: tuple[str, ...] = ()  # words the user-facing message must contain (case-insensitive)
    columns: tuple[str, ...] | None = None
    first: tuple | None = None  # the first data row as the confirm page shows it (text)
    content_type: str = "text/csv"
    sync_parse_max_bytes: int | None = None  # force the full parse into the worker


def _text(text: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: text.encode(encoding)


def _raw(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 0x3E, 1) + bytes(range(256)) * 8


def _wide(columns: int) -> Callable[[], bytes]:
    return lambda: (
        ",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" for _ in range(columns)) + "\n"
    ).encode()


def _rows(count: int, tail: bytes = b"") -> Callable[[], bytes]:
    return lambda: b"id,value\n" + b"".join(b"%d,v%d\n" % (i, i) for i in range(count)) + tail


FORMULAS = (
    "id,payload\n"
    "1,\"=cmd|' /C calc'!A0\"\n"
    "2,+1+1\n"
    "3,-2+3\n"
    "4,@SUM(A1:A2)\n"
    '5,"=HYPERLINK(""http://evil.example"",""click"")"\n'
    '6,"\tTAB=1"\n'
)

CASES: dict[str, HostileFile] = {
    # --- encodings ------------------------------------------------------------------------------
    "utf-16-le with BOM": HostileFile(
        "u16.csv",
        _text("name,city\nZoë,Zürich\n", "utf-16"),
        DATASET,
        columns=("name", "city"),
        first=("Zoë", "Zürich"),
    ),
    "utf-16-be with BOM": HostileFile(
        "u16be.csv",
        lambda: codecs.BOM_UTF16_BE + "name,city\nZoë,Zürich\n".encode("utf-16-be"),
        DATASET,
        columns=("name", "city"),
        first=("Zoë", "Zürich"),
    ),
    "utf-16-le without BOM": HostileFile(
        "u16n.csv",
        _text("name,city\nZoë,Zürich\nLi,北京\n", "utf-16-le"),
        DATASET,
        columns=("name", "city"),
        first=("Zoë", "Zürich"),
    ),
    "utf-16-be without BOM": HostileFile(
        "u16nbe.csv",
        _text("name,city\nZoë,Zürich\nLi,北京\n", "utf-16-be"),
        DATASET,
        columns=("name", "city"),
        first=("Zoë", "Zürich"),
    ),
    "utf-32 with BOM": HostileFile(
        "u32.csv",
        _text("name,city\nZoë,Zürich\n", "utf-32"),
        DATASET,
        columns=("name", "city"),
        first=("Zoë", "Zürich"),
    ),
    "utf-8 with BOM": HostileFile(
        "bom.csv", _text("\ufeffid,name\n1,Åsa\n"), DATASET, columns=("id", "name"), first=("1", "Åsa")
    ),
    "latin-1": HostileFile(
        "latin1.csv",
        _text("name,city\nRené,Zürich\nJosé,São Paulo\n", "latin-1"),
        DATASET,
        columns=("name", "city"),
        first=("René", "Zürich"),
    ),
    "cp1252 euro and smart quotes": HostileFile(
        "cp1252.csv",
        _text("item,price\n“Café”,5 €\nThé,3 €\n", "cp1252"),
        DATASET,
        columns=("item", "price"),
        first=("“Café”", "5 €"),
    ),
    "cp949 korean": HostileFile(
        "kr.csv",
        _text("이름,도시\n김철수,서울\n이영희,부산\n" * 20, "cp949"),
        DATASET,
        columns=("이름", "도시"),
        first=("김철수", "서울"),
    ),
    "mixed utf-8 and latin-1 lines": HostileFile(
        "mixed.csv", lambda: "a,b\nZoë,1\n".encode() + "René,2\n".encode("latin-1"), DATASET, columns=("a", "b")
    ),
    "invalid utf-8 in the header": HostileFile("badhead.csv", _raw(b"n\xffme,b\n1,2\n"), DATASET),
    "invalid utf-8 past the sniffed sample": HostileFile(
        "deep.csv", lambda: b"a,b\n" + b"abc,def\n" * 140_000 + b"\xff\xfe\xfa,x\n", REFUSED, says=("utf-8", "encoding")
    ),
    "utf-8 surrogate bytes": HostileFile("surrogate.csv", _raw(b"a,b\n\xed\xa0\x80,1\n"), DATASET, columns=("a", "b")),
    "utf-8 BOM only": HostileFile("bomonly.csv", _raw(codecs.BOM_UTF8), REFUSED, says=("empty",)),
    "utf-16 BOM only": HostileFile("bom16.csv", _raw(codecs.BOM_UTF16_LE), REFUSED, says=("empty",)),
    "utf-16 with an odd byte count": HostileFile(
        "odd16.csv", lambda: "a,b\n1,2\n".encode("utf-16") + b"\x00", REFUSED, says=("utf-16",)
    ),
    # --- delimiters -----------------------------------------------------------------------------
    "no delimiter": HostileFile(
        "one.csv", _text("word\nalpha\nbeta\ngamma\n"), DATASET, columns=("word",), first=("alpha",)
    ),
    "every delimiter in one file": HostileFile("many.csv", _text("a,b;c|d\te\n1,2;3|4\t5\n6,7;8|9\t0\n"), DATASET),
    "semicolon with decimal comma": HostileFile(
        "eu.csv", _text("a;b\n1,5;2\n3,25;4\n"), DATASET, columns=("a", "b"), first=("1.5", "2")
    ),
    "unit separator delimiter": HostileFile("us.csv", _text("a\x1fb\n1\x1f2\n3\x1f4\n"), REFUSED, says=("binary",)),
    "only delimiters": HostileFile(
        "commas.csv", _text(",,,\n,,,\n,,,\n"), DATASET, columns=("column_1", "column_2", "column_3", "column_4")
    ),
    "trailing delimiter": HostileFile(
        "trail.csv", _text("a,b,\n1,2,\n3,4,\n"), DATASET, columns=("a", "b", "column_3")
    ),
    # --- quotes ---------------------------------------------------------------------------------
    "unbalanced quote": HostileFile("quote.csv", _text('a,b\n1,"open\n2,3\n4,5\n'), REFUSED, says=("quote",)),
    "nested doubled quotes": HostileFile(
        "nested.csv", _text('a,b\n"say ""hi"" now",1\n'), DATASET, first=('say "hi" now', "1")
    ),
    "quote-only file": HostileFile("q.csv", _text('"\n'), REFUSED, says=("quote",)),
    "quote-only cells": HostileFile("qq.csv", _text('a,b\n"",""""\n"""""",x\n'), DATASET, columns=("a", "b")),
    "quote inside an unquoted cell": HostileFile("mid.csv", _text('a,b\nab"c,d\ne,f\n'), DATASET, columns=("a", "b")),
    "newline inside a quoted cell": HostileFile(
        "nl.csv", _text('a,b\n"line one\nline two",2\n'), DATASET, first=("line one\nline two", "2")
    ),
    "single-quote quoting": HostileFile(
        "sq.csv", _text("a,b\n'x, y',1\n'z, w',2\n"), DATASET, columns=("a", "b"), first=("x, y", "1")
    ),
    # --- ragged rows and line endings ---------------------------------------------------------------
    "row with an extra field": HostileFile("ragged.csv", _text("a,b\n1,2\n3,4,5\n6,7\n"), REFUSED, says=("line 3",)),
    "row with a missing field": HostileFile("short.csv", _text("a,b,c\n1,2,3\n4,5\n"), REFUSED, says=("line 3",)),
    "extra field in the first data row": HostileFile(
        "shift.csv", _text("a,b\n1,2,3\n4,5\n6,7\n"), REFUSED, says=("line 2",)
    ),
    "ragged row deep in a large file": HostileFile(
        "deepragged.csv", _rows(3000, b"1,2,3\n"), FAILED, says=("line 3002",), sync_parse_max_bytes=0
    ),
    "no final newline": HostileFile("nofinal.csv", _text("a,b\n1,2\n3,4"), DATASET, columns=("a", "b")),
    "carriage returns only": HostileFile("mac.csv", _text("a,b\r1,2\r3,4\r"), REFUSED, says=("line endings",)),
    "mixed line endings": HostileFile("crlf.csv", _text("a,b\r\n1,2\n3,4\r\n"), DATASET, columns=("a", "b")),
    # --- size and shape -------------------------------------------------------------------------
    "a 3 MB single cell": HostileFile(
        "cell.csv", lambda: b"a,b\n" + b"x" * (3 * 1024 * 1024) + b",1\n", DATASET, columns=("a", "b")
    ),
    "a 10 MB single line": HostileFile(
        "line.csv",
        lambda: b"a,b\n" + b"y" * (10 * 1024 * 1024 + 10) + b",1\n",
        REFUSED,
        says=("10 mb",),
        sync_parse_max_bytes=20 * 1024 * 1024,
    ),
    "20,000 columns": HostileFile("wide.csv", _wide(20_000), REFUSED, says=("20,000 columns",)),
    "5,001 columns": HostileFile("wide5k.csv", _wide(5001), REFUSED, says=("columns",)),
    "a 100,000-character header name": HostileFile("longname.csv", lambda: b"h" * 100_000 + b",b\n1,2\n", DATASET),
    # --- header ---------------------------------------------------------------------------------
    "empty file": HostileFile("empty.csv", _raw(b""), REFUSED, says=("empty",)),
    "header only": HostileFile("header.csv", _text("a,b,c\n"), REFUSED, says=("no data rows",)),
    "whitespace only": HostileFile("blank.csv", _text("   \n\t\n  \r\n"), REFUSED, says=("empty",)),
    "newlines only": HostileFile("newlines.csv", _text("\n" * 500), REFUSED, says=("empty",)),
    "duplicate header names": HostileFile("dup.csv", _text("a,a,a\n1,2,3\n"), DATASET, columns=("a", "a_2", "a_3")),
    "blank header names": HostileFile(
        "blanknames.csv", _text(",b, \n1,2,3\n"), DATASET, columns=("column_1", "b", "column_3")
    ),
    "names that clash after trimming": HostileFile(
        "trim.csv", _text(" a ,a,a_2\n1,2,3\n"), DATASET, columns=("a", "a_3", "a_2")
    ),
    "pandas and parquet reserved names": HostileFile(
        "reserved.csv",
        _text("__index_level_0__,index,None,nan,level_0\n1,2,3,4,5\n6,7,8,9,10\n"),
        DATASET,
        columns=("__index_level_0__", "index", "None", "nan", "level_0"),
        first=("1", "2", "3", "4", "5"),
    ),
    "numeric header names": HostileFile("nums.csv", _text("1,2,3\na,b,c\n"), DATASET),
    # --- injection ------------------------------------------------------------------------------
    "formula cells": HostileFile("formulas.csv", _text(FORMULAS), DATASET, columns=("id", "payload")),
    "script in headers and cells": HostileFile(
        "script.csv",
        _text("<script>alert('h')</script>,b\n<img src=x onerror=alert(1)>,\"</td><script>x()</script>\"\n"),
        DATASET,
    ),
    "template syntax in cells": HostileFile(
        "tpl.csv", _text("a,b\n{{ request }},{% debug %}\n"), DATASET, first=("{{ request }}", "{% debug %}")
    ),
    "ANSI escape codes": HostileFile("ansi.csv", _text("a,b\n\x1b[31mred\x1b[0m,1\n"), DATASET),
    # --- binary and compressed data ---------------------------------------------------------------
    "gzip renamed .csv": HostileFile("data.csv", lambda: gzip.compress(SMALL * 100), REFUSED, says=("gzip",)),
    "bzip2 renamed .csv": HostileFile("data.csv", lambda: bz2.compress(SMALL * 100), REFUSED, says=("bzip2",)),
    "zip renamed .csv": HostileFile("data.csv", lambda: _zip({"data.csv": SMALL}), REFUSED, says=("zip",)),
    "xlsx renamed .csv": HostileFile(
        "book.csv",
        lambda: _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}),
        REFUSED,
        says=("excel",),
    ),
    "PNG image": HostileFile("pic.csv", _png, REFUSED, says=("png",)),
    "ELF program": HostileFile("prog.csv", _elf, REFUSED, says=("program",)),
    "PDF document": HostileFile(
        "doc.csv", _raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), REFUSED, says=("pdf",)
    ),
    "SQLite database": HostileFile("db.csv", lambda: b"SQLite format 3\x00" + b"\x00" * 84, REFUSED, says=("sqlite",)),
    "Parquet file": HostileFile("p.csv", _raw(b"PAR1\x15\x04\x15\x00PAR1"), REFUSED, says=("parquet",)),
    "random bytes": HostileFile(
        "noise.csv", lambda: bytes((i * 7919 + 13) % 256 for i in range(20_000)), REFUSED, says=("binary",)
    ),
    "NUL bytes in the first line": HostileFile("nul.csv", _raw(b"a,b\x00\n1,2\n"), REFUSED, says=("binary",)),
    "a single NUL byte": HostileFile("nul1.csv", _raw(b"\x00"), REFUSED, says=("binary",)),
    "NUL bytes after the sniffed head": HostileFile(
        "nullate.csv", lambda: b"a,b\n" + b"1,2\n" * 5000 + b"3,\x004\n", REFUSED, says=("nul",)
    ),
    "gzip bomb renamed .csv": HostileFile(
        "bomb.csv", lambda: gzip.compress(b"0" * (20 * 1024 * 1024)), REFUSED, says=("gzip",)
    ),
    # --- file names -----------------------------------------------------------------------------
    "path traversal name": HostileFile("../../etc/passwd.csv", _raw(SMALL), DATASET, columns=("name", "age", "city")),
    "windows path name": HostileFile("C:\\Users\\x\\..\\data.csv", _raw(SMALL), DATASET),
    "name with a NUL": HostileFile("evil\x00.csv", _raw(SMALL), DATASET),
    "very long name": HostileFile("n" * 5000 + ".csv", _raw(SMALL), DATASET),
    "right-to-left override in the name": HostileFile("evil\u202evsc.exe.csv", _raw(SMALL), DATASET),
    "script in the name": HostileFile("<script>alert(1)</script>.csv", _raw(SMALL), DATASET),
    "name without a suffix": HostileFile("data", _raw(SMALL), REFUSED, says=(".csv",)),
    "double suffix ending in .exe": HostileFile("data.csv.exe", _raw(SMALL), REFUSED, says=(".csv",)),
    "name that is only a suffix": HostileFile(".csv", _raw(SMALL), DATASET),
    # --- declared content types -----------------------------------------------------------------
    "csv declared as image/png": HostileFile("ok.csv", _raw(SMALL), DATASET, content_type="image/png"),
    "gzip declared as text/csv": HostileFile(
        "ok.csv", lambda: gzip.compress(SMALL), REFUSED, says=("gzip",), content_type="text/csv"
    ),
    "json declared as text/csv": HostileFile(
        "j.csv", lambda: json.dumps({"a": [1, 2]}).encode(), REFUSED, says=("no data rows",)
    ),
}
