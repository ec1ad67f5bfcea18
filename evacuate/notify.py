"""Notifications through Apprise URLs (mail, Matrix, Slack, ntfy, a JSON webhook...): the one
module that imports apprise.

A URL often holds a secret (a password, a token in its path or host), so nothing here ever
shows one: a delivery is named by its position in evacuate.yml's ``notify.urls`` and its
scheme only, and apprise's own log (which may print URLs) is silenced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import apprise

NoticeKind = Literal["failure", "stale"]
_TYPES = {"failure": apprise.NotifyType.FAILURE, "stale": apprise.NotifyType.WARNING}

logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True)
class Notice:
    """What to tell: ``kind`` (a failure, or stale snapshots), a title and a body."""

    kind: NoticeKind
    title: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """How sending to one URL went; ``shown`` names it without its secrets."""

    index: int
    shown: str
    ok: bool
    problem: str = ""


def shown_url(index: int, url: str) -> str:
    """``notify.urls[index]`` (``scheme://…``): the URL's position and scheme, nothing else."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    safe = scheme if scheme.isascii() and scheme.replace("+", "").isalnum() else "?"
    return f"notify.urls[{index}] ({safe}://…)"


def send(urls: Sequence[str], notice: Notice) -> list[Delivery]:
    """Send ``notice`` to each URL in turn; return how each went (never raises for a URL
    that is not Apprise's or a service that does not answer)."""
    results = []
    for index, url in enumerate(urls):
        shown = shown_url(index, url)
        sender = apprise.Apprise()
        if not sender.add(url):
            results.append(Delivery(index, shown, False, "not an Apprise URL"))
            continue
        try:
            ok = bool(sender.notify(body=notice.body, title=notice.title,
                                    notify_type=_TYPES[notice.kind]))
        except Exception as failed:  # a plugin's own error: reported by its type only
            results.append(Delivery(index, shown, False, type(failed).__name__))
            continue
        results.append(Delivery(index, shown, ok, "" if ok else "the service did not accept it"))
    return results
