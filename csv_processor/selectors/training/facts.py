"""The training form's reads of a version: its table facts, cached per process, and single columns.

A version's file never changes, so its facts (types, per-column counts, a bounded row sample) are computed
from one full read and kept for the next target change. The key includes the file's size and mtime so a
recycled id (tests, restores) never returns another file's facts. Reads only; no writes.
"""

import logging
import threading
from collections import OrderedDict

import pandas as pd

from csv_processor.ml.training.table_facts import TableFacts, table_facts
from csv_processor.models import DatasetVersion
from csv_processor.storage import file_path

logger = logging.getLogger(__name__)

# Each entry holds at most a 100,000-row (2M-cell) sample plus counts: a few tens of MB at worst.
MAX_VERSIONS = 4
_cache: OrderedDict[tuple, TableFacts] = OrderedDict()
_lock = threading.Lock()


def version_table_facts(*, version: DatasetVersion) -> TableFacts:
    path = file_path(version.file.name)
    stat = path.stat()
    key = (version.pk, str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        facts = _cache.get(key)
        if facts is not None:
            _cache.move_to_end(key)
            return facts
    # Computed outside the lock: two first requests may both compute, and the second result wins.
    facts = table_facts(pd.read_parquet(path))
    logger.info("table facts of dataset version %s computed (%d rows)", version.pk, facts.rows)
    with _lock:
        _cache[key] = facts
        while len(_cache) > MAX_VERSIONS:
            _cache.popitem(last=False)
    return facts
