"""Mail checks: Maildir counts compared between inventories, doveadm's answer parsed, IMAP
LIST answers and modified UTF-7 names read, IMAP logins without a password not verified."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evacuate.config.model import ImapLogin
from evacuate.inventory.facts.mail import decode_mutf7, parse
from evacuate.inventory.model import HostInventory, Listener
from evacuate.inventory.model_apps import Maildir, MailServer
from evacuate.verify.mail import check_imap, compare_mail, doveadm_script, parse_doveadm
from evacuate.verify.mailclient import parse_list
from evacuate.verify.model import Status


def _inventory(*boxes: Maildir, queued: int | None = 1) -> HostInventory:
    return HostInventory(host="mail1", collected_at="2026-12-02T12:00:00Z",
                         mail=MailServer(boxes, "mail.example.test ESMTP Postfix", queued),
                         listeners=(Listener("tcp", "0.0.0.0", 25, unit="postfix@-.service"),))


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inventory" / "mail"
INBOX = Maildir("/home/anna/Maildir", "anna", "INBOX", "/home/anna/Maildir", 4)
ARCHIVE = Maildir("/home/anna/Maildir/.Archive", "anna", "Archive", "/home/anna/Maildir", 3)


def test_modified_utf7_names_decode() -> None:
    assert decode_mutf7("Entw&APw-rfe") == "Entwürfe"
    assert decode_mutf7("a&-b") == "a&b"
    assert decode_mutf7("&Jjo-!") == "☺!"
    assert decode_mutf7("broken&AP") == "broken&AP"  # not valid: kept as it is


def test_the_fact_names_maildir_folders_and_reads_the_queue() -> None:
    text = ("@@-- maildir anna 4@@\n/home/anna/Maildir\n"
            "@@-- maildir anna 3@@\n/home/anna/Maildir/.Archive\n"
            "@@-- maildir anna 1@@\n/home/anna/Maildir/.Entw&APw-rfe\n"
            "@@-- maildir root 2@@\n/srv/backup/.old\n"
            "@@-- postfix-banner@@\nmail.example.test ESMTP Postfix (Debian/GNU)\n"
            "@@-- postfix-queue@@\n       1\n"
            "@@-- postfix-chroot /var/spool/postfix@@\n/var/spool/postfix/etc/hosts\n"
            "/var/spool/postfix/lib/x86_64-linux-gnu/libnss_files.so.2\n")
    mail = parse(text)
    assert [(m.owner, m.mailbox, m.messages) for m in mail.maildirs] == [
        ("anna", "INBOX", 4), ("anna", "Archive", 3), ("anna", "Entwürfe", 1),
        ("root", "INBOX", 2)]  # a dot folder outside any Maildir is a Maildir of its own
    assert mail.smtp_banner == "mail.example.test ESMTP Postfix (Debian/GNU)"
    assert mail.queued == 1
    assert mail.chroot_copies == ("/var/spool/postfix/etc/hosts",
                                  "/var/spool/postfix/lib/x86_64-linux-gnu/libnss_files.so.2")
    assert parse("") == MailServer()


def test_counts_on_disk_are_compared_per_folder_and_queue() -> None:
    source = _inventory(INBOX, ARCHIVE)
    same = {c.name: c.status for c in compare_mail(source, source)}
    assert same == {"maildir anna/INBOX": Status.PASS, "maildir anna/Archive": Status.PASS,
                    "postfix queue": Status.PASS}
    target = _inventory(replace(INBOX, messages=3), queued=0)
    checks = {c.name: c for c in compare_mail(source, target)}
    assert checks["maildir anna/INBOX"].failed and checks["maildir anna/INBOX"].found == \
        "3 messages"
    assert checks["maildir anna/Archive"].failed and checks["maildir anna/Archive"].found == \
        "missing"
    assert checks["postfix queue"].failed


def test_doveadm_answers_are_parsed_per_user() -> None:
    script = doveadm_script(["anna", "b'en"])
    assert "-u anna " in script and "'b'\"'\"'en'" in script
    text = ("@@user anna\nmailbox\tmessages\nINBOX\t4\nArchive\t3\nEntwürfe\t1\n@@rc 0\n"
            "@@user ben\ndoveadm(ben): Error: User doesn't exist\n@@rc 67\n")
    answers = parse_doveadm(text)
    assert answers["anna"] == ({"INBOX": 4, "Archive": 3, "Entwürfe": 1}, "")
    assert answers["ben"][0] == {} and "doesn't exist" in answers["ben"][1]


def test_imap_list_answers_are_read() -> None:
    lines = [b'(\\HasNoChildren) "." INBOX', b'(\\HasNoChildren \\Sent) "." Sent',
             b'(\\Noselect \\HasChildren) "." Lists', b'(\\HasNoChildren) "." "Entw&APw-rfe"',
             (b'(\\HasNoChildren) "." {9}', b'a "quote"'), None]
    assert parse_list(lines) == ["INBOX", "Sent", "Entw&APw-rfe", 'a "quote"']


def test_an_imap_login_without_its_password_is_not_verified_and_never_guessed() -> None:
    source = _inventory(INBOX)
    checks = check_imap(source, "192.0.2.1", [ImapLogin("anna", "ANNA_PW")], env={})
    assert [(c.name, c.status) for c in checks] == [("imap anna", Status.SKIP)]
    assert "ANNA_PW" in checks[0].detail


def test_the_queue_is_compared_by_its_messages_not_their_queue_ids() -> None:
    """The golden capture's deferred message (postqueue -j and postcat -bh on lab-mail): a
    target whose copy has another queue id passes; a changed recipient, a changed body (its
    sha256) or a message in another queue fails by its envelope, with the count equal."""
    case = json.loads((FIXTURES / "lab_mail_queue.json").read_text())
    mail = parse(case["output"])
    assert mail.messages is not None and len(mail.messages) == mail.queued == 1
    assert "23CDB1AE81C" not in repr(mail.messages)  # the id is not part of the message
    renamed = parse(case["output"].replace("23CDB1AE81C", "4XyZ1Wq2m3z"))
    source = replace(_inventory(INBOX), mail=mail)
    check = {c.name: c for c in compare_mail(source, replace(source, mail=renamed))}
    assert check["postfix queue"].status is Status.PASS
    assert "same messages" in check["postfix queue"].detail
    message = mail.messages[0]
    for changed in (replace(message, recipients=("other@example.test",)),
                    replace(message, sha256="0" * 64), replace(message, queue="hold")):
        target = replace(source, mail=replace(mail, messages=(changed,)))
        check = {c.name: c for c in compare_mail(source, target)}
        assert check["postfix queue"].failed, changed
        assert "partner@nowhere.invalid" in check["postfix queue"].detail
    # a host that could not list its queue is compared by the count alone, and says so
    unlisted = replace(source, mail=replace(mail, messages=None))
    check = {c.name: c for c in compare_mail(source, unlisted)}
    assert check["postfix queue"].status is Status.PASS and "counted" in check["postfix queue"].detail
