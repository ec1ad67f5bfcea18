"""A reader that passes a stream through while counting and reporting the bytes read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CountingReader:
    """Read through ``source`` (any object with ``read``); ``count`` is the bytes read so
    far, and ``progress`` (if given) is called with each chunk's size."""

    def __init__(self, source: Any, progress: Callable[[int], None] | None = None) -> None:
        self.source, self.progress, self.count = source, progress, 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.source.read(size)
        if data:
            self.count += len(data)
            if self.progress:
                self.progress(len(data))
        return data
