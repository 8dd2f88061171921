"""Whether a file's quotes pair up, checked on the bytes in one vectorised pass (see QuotePairing)."""

from __future__ import annotations

import codecs

import numpy as np


class QuotePairing:
    """Checks that quotes which can open a field (after a delimiter, a line break or the file's start) and
    quotes which can close one (before a delimiter, a line break or the end) take turns, as in a
    well-formed file; quotes in neither place (doubled "" inside a value) do not count.

    pyarrow reads a quote left open at the end of the file as a value running to the end; an odd number of
    quotes exposes it, unless a literal quote inside an unquoted value (5'11") evens the count. Quotes that
    do not take turns send such a file to the exact record check; a well-formed file pays a few vector
    passes over the blocks that hold quotes.
    """

    def __init__(self, delimiter: bytes) -> None:
        self.boundary = np.zeros(256, dtype=bool)
        self.boundary[[delimiter[0], ord("\n"), ord("\r")]] = True
        self.last = ord("\n")  # the byte before the current block (the file's start counts as a line break)
        self.deferred: int | None = None  # the byte before a quote that ended the previous block
        self.at_start, self.expect_open, self.in_turn = True, True, True

    def feed(self, block: np.ndarray, at: np.ndarray) -> None:
        """`block` as bytes; `at` the positions of its quote characters."""
        if self.deferred is not None and block.size:
            self._take_turns(np.array([self.deferred], dtype=np.uint8), block[:1])
            self.deferred = None
        if at.size and self.in_turn:
            before = np.where(at > 0, block[at - 1], self.last)
            if self.at_start and block[:3].tobytes() == codecs.BOM_UTF8:
                before[at == 3] = ord("\n")
            if at[-1] == block.size - 1:  # the byte after it is in the next block
                self.deferred, at, before = int(before[-1]), at[:-1], before[:-1]
            self._take_turns(before, block[at + 1])
        self.at_start = False
        if block.size:
            self.last = int(block[-1])

    def _take_turns(self, before: np.ndarray, after: np.ndarray) -> None:
        """`before` and `after`: the bytes around each quote, in file order."""
        opens, closes = self.boundary[before], self.boundary[after]
        kinds = (opens.view(np.uint8) | (closes.view(np.uint8) << 1))[opens | closes]
        first = 0 if self.expect_open else 1
        self.in_turn = self.in_turn and bool(np.all(kinds[first::2] & 1) and np.all(kinds[1 - first :: 2] & 2))
        self.expect_open ^= bool(kinds.size % 2)

    def paired(self) -> bool:
        if self.deferred is not None:  # the file's last byte is a quote: the end of the file follows it
            self._take_turns(np.array([self.deferred], dtype=np.uint8), np.array([ord("\n")], dtype=np.uint8))
            self.deferred = None
        return self.in_turn and self.expect_open
