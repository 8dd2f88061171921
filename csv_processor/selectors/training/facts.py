"""The training form's reads of a version: its table facts, cached per process.

A version's file never changes, so its facts (types, per-column counts, a bounded row sample) are computed
from one full read and kept for the next target change. The key includes the stored name (a fresh uuid,
never rewritten) and size, so a recycled id (tests, restores) never returns another file's facts and no
request asks the store. Reads only; no writes.
"""

import logging

from csv_processor.ml.training.table_facts import TableFacts, table_facts
from csv_processor.models import DatasetVersion
from csv_processor.process_cache import LruCache
from csv_processor.selectors.datasets import dataset_version_frame

logger = logging.getLogger(__name__)

# Each entry holds at most a 100,000-row (2M-cell) sample plus counts: a few tens of MB at worst.
MAX_VERSIONS = 4
_cache: LruCache[tuple, TableFacts] = LruCache(MAX_VERSIONS)


def version_table_facts(*, version: DatasetVersion) -> TableFacts:
    key = (version.pk, version.file.name, version.size_bytes)
    return _cache.get_or_compute(key, lambda: _facts_compute(version))


def _facts_compute(version: DatasetVersion) -> TableFacts:
    facts = table_facts(dataset_version_frame(version=version))
    logger.info("table facts of dataset version %s computed (%d rows)", version.pk, facts.rows)
    return facts
