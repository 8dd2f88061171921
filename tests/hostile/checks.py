"""What every hostile-input test checks: no server error, a message a person can act on, nothing left behind."""

import html
import re
from dataclasses import dataclass
from pathlib import Path

from csv_processor.models import BatchPrediction, CleaningJob, Dataset, DatasetVersion, Prediction, Upload

_ERROR_BLOCKS = re.compile(
    r'<(?:li|div|p)[^>]*class="[^"]*(?:message error|errorlist|error)[^"]*"[^>]*>(.*?)</(?:li|div|p)>'
    r'|<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>',
    re.S,
)
_TAGS = re.compile(r"<[^>]+>")
_FIELD_PREFIX = re.compile(r"^[\w\[\].]+: ")  # "records[0].x1: Expected a number" names the field first
# Words that betray an exception text shown as is instead of a message written for people.
_LEAKS = ("traceback", "exception", "errno", "object at 0x", "nonetype", "keyerror", "<class ", "\\x")


def shown_errors(content: bytes) -> list[str]:
    """The error texts a page shows (form errors, alerts and error messages), as plain text."""
    text = content.decode("utf-8", errors="replace")
    found = []
    for match in _ERROR_BLOCKS.finditer(text):
        block = match.group(1) or match.group(2) or ""
        plain = " ".join(html.unescape(_TAGS.sub(" ", block)).split())
        if plain:
            found.append(plain)
    return found


def assert_clear_message(message: str, says: tuple[str, ...] = ()) -> None:
    """A sentence a person can act on: long enough, no exception leak, and the words the case expects."""
    assert len(message) >= 15, f"message too short to help: {message!r}"
    sentence = _FIELD_PREFIX.sub("", message)
    assert sentence[:1].isupper() or sentence[:1].isdigit() or sentence[:1] in "'\"“", message
    lowered = message.lower()
    assert not any(leak in lowered for leak in _LEAKS), f"message leaks internals: {message!r}"
    for word in says:
        assert word.lower() in lowered, f"{word!r} not in {message!r}"


def stored_files(*roots: Path) -> set[Path]:
    return {
        path
        for root in roots
        if root.exists()
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".readyz")
    }


@dataclass(frozen=True)
class Snapshot:
    """Rows of every kind an input can create, and the files under the media and temporary folders."""

    rows: dict[str, int]
    files: frozenset[Path]

    @classmethod
    def take(cls, *roots: Path) -> "Snapshot":
        models = (Upload, Dataset, DatasetVersion, BatchPrediction, CleaningJob, Prediction)
        return cls({model.__name__: model.objects.count() for model in models}, frozenset(stored_files(*roots)))

    def assert_unchanged(self, *roots: Path) -> None:
        after = Snapshot.take(*roots)
        assert after.rows == self.rows, f"rows left behind: {self.rows} -> {after.rows}"
        assert after.files == self.files, f"files left behind: {sorted(after.files - self.files)}"
