"""Checks of a mail server: every mailbox holds as many messages on the target as on the
source, seen three ways, and the MTA greets and keeps its queue as the source's did.

- on disk (pure, from the two inventories): the messages in each Maildir folder, and the
  messages in Postfix's queue;
- through the target's Dovecot: ``doveadm mailbox status`` per mailbox owner, run as root
  over the target's transport (it reads the mailboxes; the source is never asked, its
  counts are the inventory's, counted on disk);
- over IMAP from the controller, for the users evacuate.yml's ``verify.imap_logins``
  names (password from an environment variable): a real login, every mailbox EXAMINEd;
- the SMTP greeting on port 25 equals ``220`` + the source's configured banner.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Mapping, Sequence

from evacuate.config.model import ImapLogin
from evacuate.inventory.model import HostInventory
from evacuate.inventory.model_apps import Maildir, MailServer
from evacuate.transport.base import Transport
from evacuate.verify.crossing import Crossing
from evacuate.verify.mailclient import MailClientError, imap_counts, smtp_greeting
from evacuate.verify.model import Check, failed, judged, passed, skipped

AREA = "mail"
DOVECOT_PACKAGES = ("dovecot-core", "dovecot")


def _messages(count: int | None) -> str:
    return "missing" if count is None else f"{count} messages"


def _key(mailbox: str) -> str:
    """Mailbox names compared with either hierarchy separator."""
    return mailbox.replace("/", ".")


def compare_mail(source: HostInventory, target: HostInventory,
                 crossing: Crossing | None = None) -> list[Check]:
    """Messages per Maildir folder (by path) and in Postfix's queue, as counted on disk."""
    del crossing  # a mailbox holds the same messages in every release
    found = {m.path: m for m in target.mail.maildirs}
    checks = []
    for box in source.mail.maildirs:
        there = found.get(box.path)
        count = there.messages if there is not None else None
        checks.append(judged(count == box.messages, AREA, f"maildir {box.owner}/{box.mailbox}",
                             _messages(box.messages), _messages(count),
                             "" if count == box.messages else
                             f"{box.path}: {_messages(count)} on the target, "
                             f"{box.messages} on the source"))
    if source.mail.queued is not None:
        checks.append(_queue_check(source.mail, target.mail))
    return checks


def _queue_check(source: MailServer, target: MailServer) -> Check:
    """Postfix's queue by its messages: their count and, where both hosts listed them, each
    message's queue, sender, recipients, size and the sha256 of its header and body (the
    queue ids differ: a restored queue file gets a new one from its inode)."""
    queued = target.queued
    expected = f"{source.queued} queued"
    found = "no postfix" if queued is None else f"{queued} queued"
    if queued != source.queued:
        return failed(AREA, "postfix queue", expected, found,
                      "the messages waiting in Postfix's queue differ")
    if source.messages is None or target.messages is None:
        return passed(AREA, "postfix queue", expected, found,
                      "counted (the messages were not listed: no postqueue -j)")
    missing = [m for m in source.messages if m not in target.messages]
    extra = [m for m in target.messages if m not in source.messages]
    if missing or extra:
        named = "; ".join(f"{'missing' if m in missing else 'not on the source'}: {m.queue} "
                          f"from {m.sender or '<>'} to {', '.join(m.recipients)}, {m.size} B"
                          for m in (*missing, *extra)[:5])
        return failed(AREA, "postfix queue", expected, found,
                      f"the messages waiting in Postfix's queue differ: {named}")
    return passed(AREA, "postfix queue", expected, found,
                  f"same messages (queue, sender, recipients, size, content) for "
                  f"{len(source.messages)} of {source.queued}")


def _by_user(source: HostInventory) -> dict[str, dict[str, Maildir]]:
    users: dict[str, dict[str, Maildir]] = {}
    for box in source.mail.maildirs:
        users.setdefault(box.owner, {})[_key(box.mailbox)] = box
    return users


def doveadm_script(users: Sequence[str]) -> str:
    """sh program printing, per user, a marker line and doveadm's tab-separated mailbox
    status (mailbox name, messages), then the exit status."""
    lines = []
    for user in users:
        quoted = shlex.quote(user)
        lines.append(f"echo {shlex.quote('@@user ' + user)}; "
                     f"doveadm -f tab mailbox status -u {quoted} messages '*' 2>&1; "
                     f"echo \"@@rc $?\"")
    return "\n".join(lines) + "\n"


def parse_doveadm(text: str) -> dict[str, tuple[dict[str, int], str]]:
    """user → (mailbox → messages, error text or "") from :func:`doveadm_script`'s output."""
    result: dict[str, tuple[dict[str, int], str]] = {}
    user, counts, other = "", {}, []  # type: ignore[var-annotated]
    for line in text.splitlines():
        if line.startswith("@@user "):
            user, counts, other = line[len("@@user "):], {}, []
        elif line.startswith("@@rc ") and user:
            ok = line.strip() == "@@rc 0"
            result[user] = (counts, "" if ok else " ".join(other)[:200] or "doveadm failed")
            user = ""
        elif user:
            name, sep, value = line.rpartition("\t")
            if sep and value.strip().isdigit():
                counts[name] = int(value)
            elif line.strip() and line.strip() != "mailbox\tmessages":
                other.append(line.strip())
    return result


def _compare_counts(how: str, user: str, boxes: Mapping[str, Maildir],
                    counts: Mapping[str, int], duration: float) -> list[Check]:
    seen = {_key(name): n for name, n in counts.items()}
    checks = []
    for key, box in sorted(boxes.items()):
        count = seen.get(key)
        checks.append(judged(count == box.messages, AREA, f"{how} {user}/{box.mailbox}",
                             _messages(box.messages), _messages(count),
                             "" if count == box.messages else
                             f"{how} on the target sees {_messages(count)} in {box.mailbox}",
                             duration))
    return checks


def check_dovecot(source: HostInventory, target: Transport) -> list[Check]:
    """Each mailbox owner's mailboxes as the target's Dovecot counts them."""
    users = _by_user(source)
    if not users or not any(p.name in DOVECOT_PACKAGES for p in source.packages):
        return []
    started = time.monotonic()
    text = target.run_script(doveadm_script(sorted(users)), timeout=120).text
    answers = parse_doveadm(text)
    duration = round(time.monotonic() - started, 3)
    checks = []
    for user, boxes in sorted(users.items()):
        counts, error = answers.get(user, ({}, "no answer from doveadm"))
        if error:
            checks.append(failed(AREA, f"dovecot {user}", "mailboxes readable", "error",
                                 error, duration))
            continue
        checks += _compare_counts("dovecot", user, boxes, counts, duration)
    return checks


def check_imap(source: HostInventory, target_address: str, logins: Sequence[ImapLogin],
               env: Mapping[str, str] | None = None) -> list[Check]:
    """A real IMAP login per configured user; its mailboxes' counts equal the source's."""
    env = os.environ if env is None else env
    users = _by_user(source)
    checks = []
    for login in logins:
        password = env.get(login.password_env)
        name = f"imap {login.user}"
        if not password:
            checks.append(skipped(AREA, name, f"not verified: the environment variable "
                                  f"{login.password_env} (its password) is not set"))
            continue
        started = time.monotonic()
        try:
            seen = imap_counts(target_address, login.user, password, login.port)
        except MailClientError as error:
            checks.append(failed(AREA, name, "login and mailboxes", "error", str(error)[:300],
                                 round(time.monotonic() - started, 3)))
            continue
        duration = round(time.monotonic() - started, 3)
        boxes = users.get(login.user, {})
        if not boxes:
            checks.append(judged(True, AREA, name, "login", "logged in",
                                 "the source had no Maildir of this user", duration))
        checks += _compare_counts("imap", login.user, boxes, seen.mailboxes, duration)
    return checks


def check_smtp(source: HostInventory, target_address: str) -> list[Check]:
    """The target greets on port 25 as the source is configured to."""
    if not source.mail.smtp_banner or not any(
            lst.port == 25 and lst.proto.startswith("tcp") for lst in source.listeners):
        return []
    expected = f"220 {source.mail.smtp_banner}"
    started = time.monotonic()
    try:
        greeting = smtp_greeting(target_address)
    except MailClientError as error:
        greeting, detail = "no greeting", str(error)[:300]
    else:
        detail = "" if greeting == expected else "the SMTP greeting differs from the source's"
    return [judged(greeting == expected, AREA, "smtp banner tcp/25", expected, greeting, detail,
                   round(time.monotonic() - started, 3))]


def check_mail_server(source: HostInventory, target: Transport, target_address: str,
                      logins: Sequence[ImapLogin]) -> list[Check]:
    """The live checks: Dovecot's counts, IMAP logins and the SMTP greeting."""
    return (check_dovecot(source, target) + check_imap(source, target_address, logins)
            + check_smtp(source, target_address))
