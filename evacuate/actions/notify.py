"""Action: tell people when the emergency tooling finds trouble — a scheduled snapshot or a
rehearsal that failed, snapshots gone stale — through evacuate.yml's ``notify.urls``."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from evacuate.config import Config
from evacuate.errors import EvacuateError
from evacuate.notify import Delivery, Notice, send

Warn = Callable[[str], None]


def _deliver(config: Config | None, notice: Notice, warn: Warn) -> list[Delivery]:
    if config is None or not config.notify.urls:
        return []
    settings = config.notify
    if (notice.kind == "failure" and not settings.on_failure) or \
            (notice.kind == "stale" and not settings.on_stale):
        return []
    deliveries = send(settings.urls, notice)
    for delivery in deliveries:
        if not delivery.ok:
            warn(f"notification to {delivery.shown} failed: {delivery.problem}")
    return deliveries


def notify_failure(config: Config | None, command: str, subject: str, message: str,
                   warn: Warn = lambda _m: None) -> list[Delivery]:
    """Tell that ``command`` failed for ``subject`` (a host, or several) with ``message``."""
    return _deliver(config, Notice(
        "failure", f"evacuate {command} failed: {subject}",
        f"{message}\n\n(on {socket.gethostname()})"), warn)


def notify_stale(config: Config | None, hosts: Sequence[str], max_age: timedelta | None,
                 warn: Warn = lambda _m: None) -> list[Delivery]:
    """Tell that ``hosts`` have no snapshot younger than ``max_age`` (or none at all)."""
    if not hosts:
        return []
    limit = f" than {max_age}" if max_age else ""
    return _deliver(config, Notice(
        "stale", f"evacuate: stale snapshots: {', '.join(hosts)}",
        f"No snapshot younger{limit} of: {', '.join(hosts)}. Until one is taken, an "
        f"evacuation of these hosts would restore older data.\n\n(on {socket.gethostname()})"),
        warn)


@contextmanager
def failures_notified(config: Config | None, command: str, subject: str,
                      warn: Warn = lambda _m: None) -> Iterator[None]:
    """Around a command: an EvacuateError raised inside is notified, then raised again."""
    try:
        yield
    except EvacuateError as failed:
        notify_failure(config, command, subject, str(failed), warn)
        raise
