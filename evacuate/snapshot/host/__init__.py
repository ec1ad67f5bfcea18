"""Programs that run on a host, not in evacuate: each is read with :func:`program` and sent
to the host's own ``python3 -c``. Standard library only, and Python 3.7 at the oldest (the
host's interpreter, not ours): no walrus, no ``list[str]`` at run time."""

from __future__ import annotations

from importlib import resources


def program(name: str) -> str:
    """The text of the program ``<name>.py`` in this folder."""
    return (resources.files(__name__) / f"{name}.py").read_text(encoding="utf-8")
