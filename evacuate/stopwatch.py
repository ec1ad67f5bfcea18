"""Named phases timed on the controller's monotonic clock (verify's and the snapshot's
``timings``: where the time of a run went)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Measure named phases: ``with watch.phase("files"): ...``; ``timings`` holds seconds
    (a phase entered again adds up). Phases timed from two threads must have other names."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0)
                                       + time.monotonic() - started, 3)
