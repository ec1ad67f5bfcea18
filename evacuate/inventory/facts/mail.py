"""Fact family ``mail``: Maildir folders and their message counts (counted on disk, so
that the source is only read), Postfix's SMTP banner and the size of its queue."""

from __future__ import annotations

import base64
import binascii
import json
import posixpath

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model_apps import Maildir, MailServer, QueuedMessage


def decode_mutf7(name: str) -> str:
    """Decode IMAP's modified UTF-7 (RFC 3501 5.1.3: ``Entw&APw-rfe`` → ``Entwürfe``), as
    Dovecot stores folder names on disk and IMAP's LIST answers them. Text that is not
    valid modified UTF-7 is returned as it is."""
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] != "&":
            out.append(name[i])
            i += 1
            continue
        end = name.find("-", i)
        if end < 0:
            return name
        chunk = name[i + 1:end].replace(",", "/")
        if not chunk:
            out.append("&")
        else:
            try:
                raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
                out.append(raw.decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError):
                return name
        i = end + 1
    return "".join(out)


def mailbox_names(paths: dict[str, tuple[str, int]]) -> list[Maildir]:
    """Name each Maildir folder (path → (owner, messages)): a ``.Name`` folder inside
    another Maildir is that Maildir's subfolder ``Name``; any other is an INBOX."""
    found = []
    for path, (owner, messages) in sorted(paths.items()):
        parent, base = posixpath.split(path)
        if base.startswith(".") and len(base) > 1 and parent in paths:
            found.append(Maildir(path, paths[parent][0], decode_mutf7(base[1:]), parent,
                                 messages))
        else:
            found.append(Maildir(path, owner, "INBOX", path, messages))
    return found


def parse_messages(text: str) -> tuple[QueuedMessage, ...]:
    """``postqueue -j`` lines, each after the sha256 of the message's header and body."""
    found = []
    for line in text.splitlines():
        digest, _, record = line.partition(" ")
        try:
            item = json.loads(record)
            found.append(QueuedMessage(
                str(item["queue_name"]), str(item["sender"]),
                tuple(sorted(str(r["address"]) for r in item.get("recipients", ()))),
                int(item["message_size"]), digest))
        except (ValueError, KeyError, TypeError):
            continue
    return tuple(sorted(found, key=lambda m: (m.queue, m.sender, m.recipients, m.sha256)))


def parse(text: str) -> MailServer:
    paths: dict[str, tuple[str, int]] = {}
    banner, queued = "", None
    copies: list[str] = []
    spool = ""
    dirs: dict[str, str] = {}
    messages: tuple[QueuedMessage, ...] | None = None
    for part in split_parts(text):
        if part.kind == "maildir":
            owner, _, count = part.args.partition(" ")
            path = part.text.strip("\n")
            if path and count.strip().isdigit():
                paths[path] = (owner, int(count))
        elif part.kind == "postfix-banner":
            banner = part.text.strip()
        elif part.kind == "postfix-queue" and part.text.strip().isdigit():
            queued = int(part.text.strip())
        elif part.kind == "postfix-messages":
            messages = parse_messages(part.text)
        elif part.kind == "daemon-dirs":
            dirs.update(_settings(part.text))
        elif part.kind == "postfix-chroot":
            spool = part.args.strip()
            copies += [line for line in part.text.splitlines() if line.startswith("/")]
    return MailServer(maildirs=tuple(mailbox_names(paths)), smtp_banner=banner, queued=queued,
                      chroot_copies=tuple(sorted(copies)),
                      queue_directory=spool or dirs.get("queue_directory", ""),
                      messages=messages,
                      postfix_data_directory=dirs.get("data_directory", ""),
                      dovecot_state_dir=dirs.get("state_dir", ""))


def _settings(text: str) -> dict[str, str]:
    """``name value`` lines (a daemon's directories as its configuration tool says) →
    the absolute ones."""
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if value.strip().startswith("/"):
            found[name] = value.strip()
    return found


FACT = Fact(name="mail", script=snippet("mail"), parse=parse, default=MailServer, timeout=60)
