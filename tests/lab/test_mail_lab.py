"""A second doomed server of another shape: lab-mail (Postfix, Dovecot IMAP with Maildir
mailboxes, a deferred message in the queue, OpenDKIM keys, Roundcube on SQLite under
/var/lib on Apache, redis with data, a service on its own system account, a third-party
apt source, users at uid/gid 1000 and 1001, hidden directories, sysctl, a disabled conf)
evacuated onto a blank lab-target with evacuate's CLI (inventory, snapshot, plan, run,
verify): verify passes with 0 failed checks, its mail checks among them, and what the
source served answers the same on the target."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.lab.lab import MAIL_USERS, Lab, mail_lab
from evacuate.verify.mailclient import imap_counts, smtp_greeting
from evacuate.verify.webclient import fetch
from tests.lab.conftest import running_lab

# a lab of its own (another shell's run of this module picks other ones)
LAB_ID = os.environ.get("EVACUATE_TEST_MAIL_LAB_ID", "hm")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_MAIL_LAB_INDEX", "20"))

pytestmark = pytest.mark.slow

PASSWORD_ENV = {user: f"EVACUATE_TEST_IMAP_{user.upper()}" for user in MAIL_USERS}
CANARIES = ("canary-mailstat-61b9d0", *MAIL_USERS.values())

# written by the source's own daemons while the test runs (Postfix's queue manager retries
# the deferred message; its tlsmgr rewrites its PRNG seed file once an hour; logs; the OS's
# daily timers)
VOLATILE = ("/var/spool/postfix/", "/var/lib/postfix/prng_exch", "/var/log/",
            "/var/lib/systemd/timers/",
            "/var/lib/logrotate/", "/var/lib/apt/periodic/", "/var/lib/php/sessions/")
# entries whose own metadata the source's own timers change (their contents are still
# compared): roundcube-gc.timer fires at :05 and :35 and its SQLite transaction makes and
# removes a journal in the webmail's database directory, changing that directory's mtime
OWN_TIMERS = ("/var/lib/dbconfig-common/sqlite3/roundcube",)
TREES = "/etc /srv /var/lib /var/www /var/mail /home /root /opt /usr/local /var/spool"
SOURCE_STATE = (f"find {TREES} -xdev -printf '%p|%y|%m|%u|%g|%s|%T@|%C@\\n' | sort; "
                f"find {TREES} -xdev -type f -print0 | sort -z | xargs -0 sha256sum")


def _evacuate(config: Path, *args: str, timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{PASSWORD_ENV[u]: p for u, p in MAIL_USERS.items()})
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=timeout, check=False, env=env)


def _run(lab: Lab, host: str, command: str) -> str:
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text


def _state(lab: Lab) -> set[str]:
    text = _run(lab, "lab-mail", SOURCE_STATE)
    return {line for line in text.splitlines()
            if not (line.split("|", 1)[0] if "|" in line else line[66:]).startswith(VOLATILE)
            and not ("|" in line and line.split("|", 1)[0] in OWN_TIMERS)}


def _write_config(lab: Lab, folder: Path) -> Path:
    logins = "".join(f"    - user: {u}\n      password_env: {PASSWORD_ENV[u]}\n"
                     for u in MAIL_USERS)
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  mail:\n    ssh: {lab.ssh_spec('lab-mail')}\n    target: target\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n"
        f"verify:\n  imap_logins:\n{logins}")
    return config


def _webmail(address: str) -> tuple[int | None, str]:
    """Roundcube's login page, without what differs per request (its request token)."""
    answer = fetch(address, 80, path="/roundcube/", host="localhost", tls=False)
    body = answer.body.decode(errors="replace")
    body = re.sub(r'(name="_token" value=")[^"]*', r"\1", body)
    body = re.sub(r'("request_token":")[^"]*', r"\1", body)
    return answer.status, body


def _imap(address: str) -> dict[str, dict[str, int]]:
    return {user: imap_counts(address, user, password).mailboxes
            for user, password in MAIL_USERS.items()}


ROUNDCUBE_DB = "/var/lib/dbconfig-common/sqlite3/roundcube/roundcube"
FACTS = {
    "redis keys": "redis-cli dbsize",
    "roundcube rows": f"sqlite3 {ROUNDCUBE_DB} "
                      "'select count(*) from users; select count(*) from contacts;'",
    "deferred queue": "find /var/spool/postfix/deferred -type f | wc -l",
    "mailstat": "python3 -c 'import urllib.request; print(urllib.request.urlopen("
                "\"http://127.0.0.1:8140/\", timeout=5).read().decode())'",
    "third-party package": "dpkg-query -W -f '${Version}' example-tools",
    "dkim key": "sha256sum /etc/dkimkeys/mail.private",
    "disabled conf": "ls /etc/apache2/conf-enabled",
}


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = mail_lab(LAB_ID, LAB_INDEX)
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("mail-lab"), spec) as lab:
        yield lab


@pytest.fixture(scope="module")
def evacuated(mail: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("mail-run")
    config = _write_config(mail, folder)
    source = mail.address("lab-mail")
    before = {"imap": _imap(source), "smtp": smtp_greeting(source), "web": _webmail(source),
              **{name: _run(mail, "lab-mail", cmd) for name, cmd in FACTS.items()}}
    state = _state(mail)
    output = []
    for step in (("inventory", "mail"), ("snapshot", "mail"),
                 ("plan", "mail", "--to", "target", "--json")):
        done = _evacuate(config, *step)
        output.append(done.stderr + done.stdout)
        assert done.returncode == 0, f"{step}: {(done.stderr + done.stdout)[-4000:]}"
    # a run that stops early is a failure of its own (test_the_run_finishes); verify still
    # runs, so that its report says what did and did not arrive
    ran = _evacuate(config, "run")
    output.append(ran.stderr + ran.stdout)
    (folder / "run-output.txt").write_text(ran.stderr + ran.stdout)
    verified = _evacuate(config, "verify", "mail", "target", "--json")
    output.append(verified.stderr)
    (folder / "source-unchanged.txt").write_text("\n".join(sorted(state ^ _state(mail))))
    return {"config": config, "folder": folder, "before": before, "run": ran,
            "verify": verified,
            "report": json.loads(verified.stdout) if verified.stdout.strip() else {},
            "output": "\n".join(output)}


def _failures(report: dict[str, Any]) -> list[str]:
    return [f"{c['id']}: expected {c['expected']!r}, found {c['found']!r} ({c['detail']})"
            for c in report.get("checks", ()) if c["status"] == "fail"]


def test_the_run_finishes(evacuated: dict[str, Any]) -> None:
    ran = evacuated["run"]
    assert ran.returncode == 0, (ran.stderr + ran.stdout)[-4000:]


def test_verify_passes_with_no_failed_check(evacuated: dict[str, Any]) -> None:
    report = evacuated["report"]
    assert report, evacuated["verify"].stderr[-3000:]
    failures = _failures(report)
    assert not failures, f"{len(failures)} checks failed:\n" + "\n".join(failures)
    assert evacuated["verify"].returncode == 0


def test_verify_checks_every_mailbox_three_ways_and_the_smtp_banner(
        evacuated: dict[str, Any]) -> None:
    checks = {c["id"]: c for c in evacuated["report"].get("checks", ())}
    expected = [f"mail:{how} {user}/{box}" for how in ("maildir", "dovecot", "imap")
                for user, boxes in evacuated["before"]["imap"].items() for box in boxes]
    missing = [name for name in expected if name not in checks]
    assert not missing, f"mail checks not made: {missing}"
    wanted = [*expected, "mail:smtp banner tcp/25", "mail:postfix queue"]
    assert {n: checks[n]["status"] for n in wanted if n in checks} == \
        dict.fromkeys(wanted, "pass")
    # the deferred message got another queue id on the target (Postfix names its file by
    # the inode): it is compared by its envelope, size and content, not by its file name
    assert checks["mail:postfix queue"]["detail"].startswith("same messages"), \
        checks["mail:postfix queue"]


def test_mailboxes_hold_the_same_messages_over_imap(mail: Lab,
                                                    evacuated: dict[str, Any]) -> None:
    before = evacuated["before"]["imap"]
    assert before["anna"] == {"INBOX": 4, "Archive": 3, "Entwürfe": 1, "Sent": 0}
    assert _imap(mail.address("lab-target")) == before


def test_the_mta_greets_and_keeps_its_queue(mail: Lab, evacuated: dict[str, Any]) -> None:
    before = evacuated["before"]
    assert smtp_greeting(mail.address("lab-target")) == before["smtp"]
    assert before["deferred queue"].strip() == "1"
    assert _run(mail, "lab-target", FACTS["deferred queue"]) == before["deferred queue"]


@pytest.mark.parametrize("fact", ["redis keys", "roundcube rows",
                                  "mailstat",
                                  "third-party package", "dkim key", "disabled conf"])
def test_the_targets_state_equals_the_sources(mail: Lab, evacuated: dict[str, Any],
                                              fact: str) -> None:
    assert _run(mail, "lab-target", FACTS[fact]) == evacuated["before"][fact]


def test_the_webmail_serves_the_same_page(mail: Lab, evacuated: dict[str, Any]) -> None:
    status, page = evacuated["before"]["web"]
    assert status == 200 and "Example Test Webmail" in page
    assert _webmail(mail.address("lab-target")) == (status, page)


def test_the_system_accounts_service_answers_on_its_port(mail: Lab,
                                                         evacuated: dict[str, Any]) -> None:
    assert "mailstat mail.example.test: ok" in evacuated["before"]["mailstat"]
    assert _run(mail, "lab-target", "stat -c '%U:%G %a' /etc/mailstat/mailstat.conf") == \
        "root:mailstat 640\n"
    assert _run(mail, "lab-target", "systemctl is-active mailstat") == "active\n"


def test_the_users_keep_their_ids_groups_and_keys(mail: Lab, evacuated: dict[str, Any]) -> None:
    for user in ("anna", "ben"):
        command = f"id {user}; sha256sum /home/{user}/.ssh/authorized_keys"
        source, target = _run(mail, "lab-mail", command), _run(mail, "lab-target", command)
        # ids may be remapped on a target that holds 1000/1001 already; names must match
        assert re.sub(r"\d+", "#", source) == re.sub(r"\d+", "#", target)
    assert "www-data" in _run(mail, "lab-target", "id -nG anna")


def test_the_source_is_unchanged(evacuated: dict[str, Any]) -> None:
    changed = (evacuated["folder"] / "source-unchanged.txt").read_text()
    assert changed == "", changed[:3000]


def test_no_password_or_secret_in_plans_projects_or_logs(evacuated: dict[str, Any]) -> None:
    state = evacuated["folder"] / "state"
    leaked = []
    for path in state.rglob("*"):
        if path.is_file() and "store" not in path.parts and "keys" not in path.parts:
            data = path.read_bytes()
            leaked += [f"{path}: {c}" for c in CANARIES if c.encode() in data]
    leaked += [f"output: {c}" for c in CANARIES if c in evacuated["output"]]
    assert not leaked


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report.get("checks", ())}


def test_the_webmails_sqlite_database_is_copied_by_its_engine_and_verified(
        evacuated: dict[str, Any]) -> None:
    """Roundcube's SQLite database is found by its header, copied by the online backup and
    restored by the sqlite engine (not as a file), and verify compared every table's rows
    and content, its schema and the file's owner and mode; the keyspace of redis alike."""
    assert f"sqlite:{ROUNDCUBE_DB}: restored" in (evacuated["folder"] / "run-output.txt").read_text()
    checks = _checks(evacuated["report"])
    ours = {k.split(": ", 1)[1]: c for k, c in checks.items()
            if k.startswith(f"databases:{ROUNDCUBE_DB}: ")}
    assert {"users", "contacts", "identities", "relation", "index", "pragma", "file"} <= set(ours)
    assert {n: c["status"] for n, c in ours.items()} == dict.fromkeys(ours, "pass")
    assert ours["contacts"]["found"] == "25 rows" and ours["contacts"]["detail"] == "same content"
    assert checks["redis:keyspace: db0"]["status"] == "pass"
    assert checks["redis:keyspace: db0"]["detail"] == "same content"


def test_verify_fails_a_changed_row_and_a_changed_redis_value(
        mail: Lab, evacuated: dict[str, Any]) -> None:
    """A contact renamed in the webmail's database and a session value changed in redis, on
    the target, with every count as it was: verify fails both by their content."""
    update = ("runuser -u www-data -- sqlite3 " + ROUNDCUBE_DB + " \"UPDATE contacts SET name = "
              "{} WHERE contact_id = (SELECT min(contact_id) FROM contacts)\"")
    value = _run(mail, "lab-target", "redis-cli GET session:1").strip()
    _run(mail, "lab-target", update.format("name || '-x'") + " && redis-cli SET session:1 changed")
    try:
        verified = _evacuate(evacuated["config"], "verify", "mail", "target", "--json")
        checks = _checks(json.loads(verified.stdout))
        assert verified.returncode == 1
        contacts = checks[f"databases:{ROUNDCUBE_DB}: contacts"]
        assert contacts["status"] == "fail" and "content differs" in contacts["detail"]
        assert checks[f"databases:{ROUNDCUBE_DB}: users"]["status"] == "pass"
        assert checks["redis:keyspace: db0"]["status"] == "fail"
        assert "content differs" in checks["redis:keyspace: db0"]["detail"]
    finally:
        _run(mail, "lab-target", update.format("substr(name, 1, length(name) - 2)")
             + f" && redis-cli SET session:1 '{value}'")
    assert _run(mail, "lab-target", FACTS["roundcube rows"]) == evacuated["before"]["roundcube rows"]
