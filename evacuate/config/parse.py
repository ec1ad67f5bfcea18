"""Parsers for the values of evacuate.yml that are more than a schema type: durations,
raising ValueError saying what is wrong. SSH addresses are parsed by the transport's
:func:`~evacuate.transport.spec.parse_host_spec` (UsageError), store URLs by the store's
:meth:`~evacuate.snapshot.store.url.StoreURL.parse` (ConfigError).
"""

from __future__ import annotations

import re
from datetime import timedelta

from evacuate.errors import UsageError
from evacuate.transport.spec import HostSpec, parse_host_spec

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Given "15m", "2h", "1d" or "1h30m" (units s, m, h, d, w), return the timedelta;
    raise ValueError for anything else."""
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a duration like 15m, 2h, 1d or 1h30m")
    total = timedelta()
    for amount, unit in _DURATION.findall(compact):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def parse_execution_node(text: str) -> HostSpec:
    """An execution node's SSH spec (``[user@]host[:port]``); raise UsageError (one line)
    for anything else, 'local' included (the controller runs its jobs itself)."""
    spec = parse_host_spec(text)
    if spec.is_local:
        raise UsageError(f"'{text}' is not an execution node: a node is another host reached "
                         "over SSH ('local' is this controller: leave the node out)")
    return spec
