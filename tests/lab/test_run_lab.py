"""The whole evacuation on the lab: plan lab-source onto a blank lab-target, run it, and find
the same server there; a second run changes nothing; a killed run resumes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evacuate.config import load_config
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import Transport
from tests.lab.canaries import source_canaries
from tests.lab.source_state import Entry, changes, file_system_state


def write_config(lab: Lab, folder: Path) -> Path:
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  source:\n    ssh: {lab.ssh_spec('lab-source')}\n    target: target\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n")
    return config


def evacuate(config: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def _source_state(lab: Lab) -> dict[bytes, Entry]:
    with lab.open("lab-source") as source:
        return file_system_state(source)


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    lab.reset("lab-source")
    lab.reset("lab-target")
    folder = tmp_path_factory.mktemp("run")
    config = write_config(lab, folder)
    with lab.open("lab-source") as source:
        (folder / "canaries.json").write_text(json.dumps(source_canaries(source)))
    before = _source_state(lab)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["packages"] and plan["users"]
    ran = evacuate(config, "run")
    assert ran.returncode == 0, ran.stderr[-3000:]
    (folder / "source-changes.txt").write_text("\n".join(changes(before, _source_state(lab))))
    return config, ran.stderr + ran.stdout


def test_the_snapshot_is_taken_while_the_packages_install(evacuated: tuple[Path, str]) -> None:
    _config, output = evacuated
    assert output.index("] prepare: ") < output.index("snapshot done in") < \
        output.index("prepare done in") < output.index("] files: ")


def test_the_source_is_unchanged_by_snapshot_plan_and_run(evacuated: tuple[Path, str]) -> None:
    """The whole file system of the source, by content, metadata and ctime, before the plan
    (and its snapshot) and after the run; set aside only what source_state.SET_ASIDE names."""
    config, _ = evacuated
    changed = (config.parent / "source-changes.txt").read_text()
    assert changed == "", changed


def _target(lab: Lab, command: str) -> str:
    with lab.open("lab-target") as target:
        return target.run(command, timeout=120, check=True).text


def test_the_same_sites_answer_on_the_target(lab: Lab, evacuated: tuple[Path, str]) -> None:
    for host in ("lab-source", "lab-target"):
        request = urllib.request.Request(f"http://{lab.address(host)}/",
                                         headers={"Host": "www.example.test"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert "<title>Example Test" in answer.read().decode()
    proc = subprocess.run(["openssl", "s_client", "-connect", f"{lab.address('lab-target')}:443",
                           "-servername", "shop.example.test"], input="", capture_output=True,
                          text=True, timeout=20, check=False)
    assert "CN = shop.example.test" in proc.stdout


def test_databases_users_units_and_cron_are_there(lab: Lab, evacuated: tuple[Path, str]) -> None:
    assert _target(lab, "runuser -u postgres -- psql -XAt -d shop -c "
                        "'select count(*) from orders'").strip() == "5000"
    assert _target(lab, "mariadb -N -B -e 'select count(*) from blog.comments'").strip() == "3000"
    # lab-target's ops has uid 1001: alice is remapped (to the id the plan chose)
    assert _target(lab, "getent passwd alice bob | cut -d: -f1,3,7").split() == [
        "alice:1003:/bin/bash", "bob:1002:/bin/bash"]
    with lab.open("lab-source") as source:
        keys = source.run("cat /home/alice/.ssh/authorized_keys", check=True).text
    assert _target(lab, "cat /home/alice/.ssh/authorized_keys") == keys
    assert _target(lab, "systemctl is-active notes.service notes-cleanup.timer nginx "
                        "postgresql mariadb cron").split() == ["active"] * 6
    assert ":8080" in _target(lab, "ss -Htln")
    assert "backup-db.sh" in _target(lab, "crontab -l -u root")
    assert "sync-reports.sh" in _target(lab, "crontab -l -u alice")
    assert _target(lab, "stat -c '%U:%G %a' /srv/data/uploads").strip() == "www-data:webdev 2775"
    assert _target(lab, "ls /etc/nginx/sites-enabled").split() == [
        "shop.example.test", "www.example.test"]


def _plan(config: Path) -> dict[str, Any]:
    path = config.parent / "state" / "plans" / "source-to-target" / "plan.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _both(lab: Lab, command: str) -> tuple[str, str]:
    with lab.open("lab-source") as source:
        mine = source.run(command, timeout=120, check=True).text
    return mine, _target(lab, command)


def test_remapped_ids_are_the_planned_ones_and_accounts_keep_their_state(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    """lab-target is lived-in like a cloud image (debian 1000, ops 1001): alice (1001 on
    the source) gets the id the plan chose, bob keeps 1002; the admin's system account
    notesd (no data, only a config file of its group) is created as a system account; the
    package account www-data is in the admin's group webdev as on the source; shell, lock,
    aging and expiry are the source's."""
    config, _ = evacuated
    users = {u["name"]: u for u in _plan(config)["users"]}
    assert (users["alice"]["uid"], users["alice"]["uid_kept"]) == (1003, False)
    assert (users["bob"]["uid"], users["bob"]["uid_kept"]) == (1002, True)
    for name in ("alice", "bob"):
        entry = _target(lab, f"getent passwd {name}").split(":")
        assert (int(entry[2]), int(entry[3])) == (users[name]["uid"], users[name]["gid"])
    assert _target(lab, "getent passwd debian ops | cut -d: -f1,3").split() == [
        "debian:1000", "ops:1001"]
    notesd = _target(lab, "getent passwd notesd").split(":")
    assert users["notesd"]["system"] and int(notesd[2]) == users["notesd"]["uid"] < 1000
    assert notesd[6].strip() == "/usr/sbin/nologin"
    assert not _target(lab, "ls -A /nonexistent 2>/dev/null || true").strip()
    assert _target(lab, "stat -c '%U:%G %a' /etc/notesd.conf").strip() == "root:notesd 640"
    source_groups, target_groups = _both(lab, "id -nG www-data")
    assert "webdev" in source_groups.split()
    assert set(target_groups.split()) == set(source_groups.split())
    # /etc/shadow without the hash: the lock (first character of the field) and aging
    shadow = ("for u in alice bob notesd www-data notes; do getent shadow $u | "
              "awk -F: '{print $1, substr($2, 1, 1) ~ /[!*]/, $4, $5, $6, $7, $8}'; done")
    mine, theirs = _both(lab, shadow)
    assert mine == theirs and "bob 1 1 90 14 30" in mine
    # with a maximum age the last change counts too
    before, after = _both(lab, "getent shadow bob | cut -d: -f3")
    assert before == after


def test_verify_reports_the_remaps_and_the_targets_own_accounts(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    config, _ = evacuated
    verified = evacuate(config, "verify", "source", "target")
    assert verified.returncode == 0, verified.stdout[-3000:]
    checks = _checks(verified)
    assert checks["users:alice"]["status"] == "pass"
    assert "remapped as planned: uid 1001 → 1003" in checks["users:alice"]["detail"]
    assert "remapped as planned: gid 1001 → 1003" in checks["groups:alice"]["detail"]
    for name in ("users:debian", "users:ops", "groups:debian", "groups:ops"):
        assert checks[name]["status"] == "pass"
        assert "the target's own" in checks[name]["detail"], name
    own = checks["data:/home (the target's own)"]
    assert own["status"] == "pass" and "/home/debian" in own["detail"]
    assert checks["users:notesd"]["status"] == checks["users:www-data"]["status"] == "pass"


def test_no_secret_in_plans_projects_or_logs(evacuated: tuple[Path, str]) -> None:
    """The source's secrets as they are there (canaries.py: the database servers' password
    hashes read from the source, an API token and a database URL's password in a config
    file, the shadow hash, private keys) are in no output and no state file outside the
    encrypted store and the keys."""
    config, output = evacuated
    canaries = json.loads((config.parent / "canaries.json").read_text())
    state = config.parent / "state"
    for canary in canaries:
        assert canary not in output, canary
    files = [p for p in state.rglob("*") if p.is_file() and "store" not in p.parts
             and "keys" not in p.parts]
    assert any(p.name == "plan.json" for p in files) and any("artifacts" in p.parts
                                                             for p in files)
    for path in files:
        data = path.read_bytes()
        for canary in canaries:
            assert canary.encode() not in data, (path, canary)


def test_a_second_run_changes_nothing(evacuated: tuple[Path, str]) -> None:
    config, _ = evacuated
    again = evacuate(config, "run", "--snapshot", "latest")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "prepare done" in again.stderr and "activate done" in again.stderr
    for line in again.stderr.splitlines():
        if line.strip().startswith(("prepare done", "activate done")):
            assert "changed=0" in line, line


def test_package_files_hardened_after_install_keep_their_mode_on_the_target(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    """lab-source's admin took chfn's setuid bit and made /etc/crontab 0600 after the
    install, their content unchanged (dpkg's records cannot show it): the snapshot finds
    them by their ctime, the target keeps its packages' copies with the source's mode, and
    verify compares them."""
    stat = "stat -c '%a %U:%G' /usr/bin/chfn /etc/crontab"
    with lab.open("lab-source") as source:
        assert source.run(stat, timeout=60, check=True).text.split() == [
            "755", "root:root", "600", "root:root"]
    assert _target(lab, stat).split() == ["755", "root:root", "600", "root:root"]
    config, _ = evacuated
    verified = evacuate(config, "verify", "source", "target")
    check = _checks(verified)["config:package files' mode and owner"]
    assert check["status"] == "pass" and int(check["expected"].split()[0]) >= 2, check


def test_a_package_file_patched_with_its_old_mtime_put_back_moves_with_its_content(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    """lab-source's nginx default page was patched in place and its package's mtime put
    back (cp -p, touch -r): its mtime says unchanged, its ctime and dpkg's md5sum do not.
    The target gets the source's content, not its package's, and verify compares it."""
    page = "/usr/share/nginx/html/index.html"
    with lab.open("lab-source") as source:
        expected = source.run(f"sha256sum {page}", timeout=60, check=True).text.split()[0]
        assert "maintenance contact" in source.run(f"cat {page}", timeout=60, check=True).text
        assert source.run(f"dpkg --verify nginx-common | grep -F {page}", timeout=120
                          ).text.strip(), "dpkg no longer sees the patch: the seed changed"
    assert _target(lab, f"sha256sum {page}").split()[0] == expected
    config, _ = evacuated
    inventory = json.loads(evacuate(config, "inventory", "source", "--json").stdout)
    assert page in {c["path"] for c in inventory["package_files"]["changed"]}


def test_what_the_targets_own_cron_job_writes_is_listed_not_failed(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    """alice's cron job copies reports into ~/reports on the running target (CI once hit it
    between a run's restore and its verify, when it ran every half hour): new since the
    restore, so verify
    lists those entries as the target's own and passes; a restored file overwritten with
    other content after the restore is not verified (what the restore wrote is gone), and
    one whose mode changed after it still fails."""
    config, _ = evacuated
    _target(lab, "runuser -u alice -- /home/alice/bin/sync-reports.sh")
    assert _target(lab, "ls /home/alice/reports")
    try:
        verified = evacuate(config, "verify", "source", "target")
        assert verified.returncode == 0, verified.stdout[-3000:]
        own = _checks(verified)["data:/home (written on the target)"]
        assert own["status"] == "pass" and "/home/alice/reports/a.txt" in own["detail"]
        _target(lab, "echo changed >> /home/alice/bin/sync-reports.sh")
        rewritten = evacuate(config, "verify", "source", "target", "--full")
        assert rewritten.returncode == 0, rewritten.stdout[-3000:]
        checks = _checks(rewritten)
        assert checks["data:/home (rewritten on the target)"]["status"] == "unverified"
        assert "/home/alice/bin/sync-reports.sh" in checks[
            "data:/home (rewritten on the target)"]["detail"]
        _target(lab, "chmod 0700 /home/alice/bin/sync-reports.sh")
        broken = evacuate(config, "verify", "source", "target", "--full")
        assert broken.returncode == 1, broken.stdout[-3000:]
        failed = {k: c for k, c in _checks(broken).items() if c["status"] == "fail"}
        assert set(failed) == {"data:/home", "data:/home/alice/bin/sync-reports.sh"}
        assert "changed on the target after the restore" in failed[
            "data:/home/alice/bin/sync-reports.sh"]["detail"]
    finally:
        _target(lab, "rm -rf /home/alice/reports; sed -i '$d' /home/alice/bin/sync-reports.sh; "
                     "chmod 0755 /home/alice/bin/sync-reports.sh")


def _checks(verified: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """The checks of the report a verify run saved, by id."""
    saved = verified.stderr.split("report saved to ", 1)[1].split()[0]
    report = json.loads(Path(saved).read_text())
    return {f"{c['area']}:{c['name']}": c for c in report["checks"]}


def _kill_run(config: Path, *args: str, when: Callable[[str], bool]) -> str:
    """Start ``evacuate run ARGS`` and SIGKILL it (and its children) as soon as ``when``
    holds for its output so far (asked every 50 ms); return that output."""
    proc = subprocess.Popen([sys.executable, "-m", "evacuate", "run", "-c", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    try:
        while not when("".join(lines)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "".join(lines)[-2000:]
    return "".join(lines)


GATES = Path(__file__).parent / "gates"
PAUSED = "/tmp/evacuate-gate-paused"  # written by tests/lab/gates/pg_restore


def _kill_run_while_loading(lab: Lab, config: Path, database: str,
                            gate_bytes: int = 16384) -> str:
    """Run ``run --resume`` with the target's pg_restore of ``database`` gated by
    ``tests/lab/gates/pg_restore``: the real pg_restore gets the dump's first
    ``gate_bytes`` and then nothing more. Once the gate holds and the database has its
    first table, SIGKILL the run, then the gated loader (a dead controller ends its loader
    the same way: its input stops): the database is left half loaded at a known point,
    however loaded the machine is. Return the run's output."""
    gate = ((GATES / "pg_restore").read_text().replace("@DATABASE@", database)
            .replace("@BYTES@", str(gate_bytes)))
    with lab.open("lab-target") as target:
        target.run(f"rm -f {PAUSED} && cat > /usr/local/bin/pg_restore && "
                   "chmod 755 /usr/local/bin/pg_restore", input=gate.encode(), check=True)
    proc = subprocess.Popen([sys.executable, "-m", "evacuate", "run", "-c", str(config),
                             "--resume", "--snapshot", "latest"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        with lab.open("lab-target") as target:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline and proc.poll() is None and not (
                    target.run(f"test -s {PAUSED}").ok and _tables(target, database) > 0):
                time.sleep(0.2)
            assert proc.poll() is None, f"the run ended before the gate held: {''.join(lines)}"
            assert _tables(target, database) > 0, "".join(lines)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            target.run(f"pid=$(cat {PAUSED}) && pkill -KILL -P \"$pid\"; kill -KILL \"$pid\"; "
                       f"rm -f /usr/local/bin/pg_restore {PAUSED}", check=True)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        reader.join(timeout=10)
    return "".join(lines)


def _tables(target: Transport, database: str) -> int:
    count = target.run(f"runuser -u postgres -- psql -XAt -d {database} -c \"select count(*) "
                       "from pg_tables where schemaname = 'public'\"", timeout=60).text.strip()
    return int(count) if count.isdigit() else 0


def _journal(config: Path) -> dict[str, Any]:
    path = config.parent / "state" / "plans" / "source-to-target" / "journal.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_a_run_killed_at_each_step_resumes(lab: Lab, evacuated: tuple[Path, str]) -> None:
    """SIGKILL while the packages install, as the files restore and while a database loads
    (its loader on the target held by a gate after the dump's first bytes, once the
    database has its first table, so that the kill always lands mid-load); each --resume continues where it stopped, the half-loaded database is
    dropped and loaded again, and the last one ends verified."""
    config, _ = evacuated
    lab.reset("lab-target")
    prepare = [0.0]

    def installing(out: str) -> bool:  # a few seconds into the packages
        if "] prepare: " in out and not prepare[0]:
            prepare[0] = time.monotonic()
        return bool(prepare[0]) and time.monotonic() - prepare[0] > 3

    _kill_run(config, "--snapshot", "latest", when=installing)
    assert not _journal(config)["steps"].get("prepare")

    _kill_run(config, "--resume", "--snapshot", "latest",
              when=lambda out: "] files: " in out)
    assert _journal(config)["steps"]["prepare"]["status"] == "done"
    assert "files" not in _journal(config)["steps"]

    out = _kill_run_while_loading(lab, config, "shop")
    assert "files done" in out
    assert _journal(config)["steps"]["databases"] == {"status": "running",
                                                       "restoring": "postgresql:shop"}
    with lab.open("lab-target") as target:  # half loaded: had the resume kept it, it stays so
        assert _tables(target, "shop") > 0

    resumed = evacuate(config, "run", "--resume", "--snapshot", "latest")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "prepare: " in resumed.stderr and "(done before, skipped)" in resumed.stderr
    assert "verify done" in resumed.stderr
    assert "postgresql:shop: restored" in resumed.stderr  # dropped and loaded again
    assert _target(lab, "runuser -u postgres -- psql -XAt -d shop -c "
                        "'select count(*) from orders'").strip() == "5000"
    assert _target(lab, "systemctl is-active notes.service").strip() == "active"


def test_the_rendered_project_runs_with_plain_ansible_playbook(
        lab: Lab, evacuated: tuple[Path, str], tmp_path: Path) -> None:
    config, _ = evacuated
    state = config.parent / "state"
    lab.reset("lab-target")
    exported = evacuate(config, "export", "--to", str(tmp_path / "payload"))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "payload").stat().st_mode & 0o077 == 0
    project = state / "plans" / "source-to-target" / "project"
    assert "/" not in (project / "inventory" / "hosts.yml").read_text().split("ansible_host")[0]
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}",
               ANSIBLE_PRIVATE_KEY_FILE=str(lab.key),
               ANSIBLE_SSH_ARGS=f"-o UserKnownHostsFile={lab.known_hosts} "
                                "-o StrictHostKeyChecking=yes")
    played = subprocess.run(
        [str(bindir / "ansible-playbook"), "site.yml", "--vault-password-file",
         str(state / "keys" / "vault-pass"), "-e", f"evacuate_payload_dir={tmp_path / 'payload'}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert played.returncode == 0, played.stdout[-3000:]
    verified = evacuate(config, "verify", "source", "target")
    assert verified.returncode == 0, verified.stdout[-3000:]


def test_cutover_moves_the_last_changes_and_reports_the_downtime(
        lab: Lab, evacuated: tuple[Path, str]) -> None:
    config, _ = evacuated
    with lab.open("lab-source") as source:
        source.run("echo late > /srv/data/public/late.txt && runuser -u postgres -- psql -XAq "
                   "-d shop -c \"insert into orders (customer_id, product_id, qty) "
                   "values (1, 1, 9)\"", check=True)
    created = ("mariadb -N -B -e \"select create_time from information_schema.tables "
               "where table_schema = 'blog' and table_name = 'comments'\"")
    blog_created = _target(lab, created)
    try:
        cut = evacuate(config, "run", "--cutover", "--snapshot", "latest")
        assert cut.returncode == 0, cut.stderr[-3000:] + cut.stdout[-2000:]
        assert "downtime" in cut.stdout and "checks passed" in cut.stdout
        # where the downtime went, phase by phase
        phases = re.search(r"downtime [0-9.]+ s \(stop [0-9.]+ s, final snapshot [0-9.]+ s, "
                           r"files [0-9.]+ s, databases [0-9.]+ s, restart [0-9.]+ s, "
                           r"verify [0-9.]+ s\)", " ".join(cut.stdout.split()))
        assert phases, cut.stdout[-2000:]
        # blog did not change on the source: the target keeps what it loaded; shop did
        kept = next(line for line in (cut.stdout + cut.stderr).splitlines()
                    if "not reloaded:" in line)
        assert "mariadb:blog" in kept and "postgresql:shop" not in kept, kept
        assert _target(lab, created) == blog_created
        assert _target(lab, "cat /srv/data/public/late.txt").strip() == "late"
        assert _target(lab, "runuser -u postgres -- psql -XAt -d shop -c "
                            "'select count(*) from orders'").strip() == "5001"
        # the final snapshot's inventory was taken before the writers stopped (out of the
        # downtime): it shows them running, as a restore from it should start them
        loaded = load_config(config)
        final = open_repository(loaded, StateDir(loaded.state_dir)).latest("source")
        assert final is not None and "late.txt" in {e.path.rsplit("/", 1)[-1]
                                                    for e in final.files}
        units = {u["name"]: u["active_state"] for u in final.inventory["services"]}
        assert units["notes.service"] == "active" and units["nginx.service"] == "active"
        with lab.open("lab-source") as source:
            assert source.run("systemctl is-active nginx notes").text.split() == [
                "inactive", "inactive"]
        reverted = evacuate(config, "revert")
        assert reverted.returncode == 0, reverted.stderr
        with lab.open("lab-source") as source:
            assert source.run("systemctl is-active nginx notes").text.split() == [
                "active", "active"]
    finally:
        lab.reset("lab-source")
