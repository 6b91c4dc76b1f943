"""Progress lines for the terminal: each step says what it does and how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Prints one line per step to ``stream`` (stderr by default) and keeps the timings.

    Parameters
    ----------
    stream : file-like or None
        Where to print; ``None`` keeps quiet but still records the timings.
    """

    def __init__(self, stream: TextIO | None = sys.stderr) -> None:
        self.stream = stream
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Time the enclosed block under ``label``; prints the start and the end."""
        if self.stream is not None:
            print(f"… {label}", file=self.stream, flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            self.timings[label] = self.timings.get(label, 0.0) + seconds
            if self.stream is not None:
                print(f"  {label}: {seconds:.1f} s", file=self.stream, flush=True)

    @property
    def total_s(self) -> float:
        return time.perf_counter() - self._t0
