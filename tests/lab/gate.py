"""Gates: stand-ins for a program, installed on a lab host ahead of it on PATH
(``tests/lab/gates/``), that hold it at a known point until the test lets it go, so that a
test acts while the program is known to run instead of racing a short process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evacuate.transport import Transport

GATES = Path(__file__).parent / "gates"
HOLD, HELD = "/tmp/evacuate-gate-hold", "/tmp/evacuate-gate-held"  # see gates/tar


@dataclass
class TarGate:
    """The tar gate on one host (``host`` is a root transport to it)."""

    host: Transport

    def held(self) -> bool:
        """A tar is waiting at the gate now."""
        return self.host.run(f"test -s {HELD}").ok

    def release(self) -> None:
        self.host.run(f"rm -f {HOLD}", check=True)


@contextmanager
def tar_gate(host: Transport, hold: str) -> Iterator[TarGate]:
    """Hold the next tar of kind ``hold`` ("sudo": run through sudo; "extract": tar -x) on
    ``host`` until released; the stand-in is removed on leaving."""
    host.run(f"rm -f {HELD} && echo {hold} > {HOLD} && cat > /usr/local/bin/tar && "
             "chmod 755 /usr/local/bin/tar", input=(GATES / "tar").read_bytes(), check=True)
    try:
        yield TarGate(host)
    finally:
        host.run(f"rm -f {HOLD} {HELD} /usr/local/bin/tar", check=True)
