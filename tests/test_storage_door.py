"""csv_processor/storage.py is the one door to stored files: no other app module reaches Django's storage,
MEDIA_ROOT or a stored file's path, so the files can live in an object store (issue 17)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("csv_processor", "csv_analyzer", "users")
DOOR = Path("csv_processor/storage.py")
# Settings define MEDIA_ROOT (the local store, and the default home of the read-through cache).
MAY_NAME_MEDIA_ROOT = {DOOR, Path("csv_analyzer/settings.py")}
FILE_FIELDS = {"file", "result_file"}
FIELD_FILE_IO = {"path", "open", "size", "read", "url", "storage", "save", "delete"}


def _violations(relative: Path, tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.core.files.storage"):
            found.append(f"{where} imports {node.module}")
        elif isinstance(node, ast.Import) and any(a.name.startswith("django.core.files.storage") for a in node.names):
            found.append(f"{where} imports django.core.files.storage")
        elif isinstance(node, ast.Name | ast.Attribute) and relative not in MAY_NAME_MEDIA_ROOT:
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in {"MEDIA_ROOT", "default_storage"}:
                found.append(f"{where} uses {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "path":
            found.append(f"{where} calls .path(): build stored paths in storage.py")
        if (
            isinstance(node, ast.Attribute)
            and node.attr in FIELD_FILE_IO
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in FILE_FIELDS
        ):
            found.append(f"{where} uses .{node.value.attr}.{node.attr}: go through csv_processor.storage")
    return found


def test_only_the_storage_module_reaches_stored_files():
    violations = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == DOOR or "migrations" in relative.parts:
                continue
            violations += _violations(relative, ast.parse(path.read_text(), filename=str(relative)))

    assert violations == []


def test_the_check_finds_each_way_around_the_door():
    source = (
        "from django.core.files.storage import default_storage\n"
        "import django.core.files.storage\n"
        "x = settings.MEDIA_ROOT / 'a'\n"
        "p = storage.path('versions/a.parquet')\n"
        "f = version.file.open('rb')\n"
    )

    found = _violations(Path("csv_processor/views/x.py"), ast.parse(source))

    assert len(found) == 5  # the two imports, MEDIA_ROOT, .path() and .file.open
