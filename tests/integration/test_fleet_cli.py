"""``evacuate plan`` and ``run`` for a fleet through the real CLI, actions and Apprise, with
hosts nothing answers on (127.0.0.1:9) and a webhook on 127.0.0.1: every host gets a result
(none hides another's), a fleet plan is not gated, a fleet run skips the waves after a
failed one, exits 1 and notifies notify.urls of the failed hosts; bad combinations of
arguments are one line, exit 2. The lab test (tests/lab/test_fleet_lab.py) moves real
hosts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_notify import SECRET, Endpoint, _evacuate
from tests.integration.test_notify import endpoint as endpoint  # the fixture


def _config(folder: Path, url: str) -> Path:
    config = folder / "evacuate.yml"
    hosts = "".join(f"  {h}:\n    ssh: root@127.0.0.1:9\n    target: new-{h}\n"
                    for h in ("web1", "web2", "db1"))
    targets = "".join(f"  new-{h}:\n    ssh: root@127.0.0.1:9\n" for h in ("web1", "web2", "db1"))
    config.write_text(
        f"state_dir: {folder / 'state'}\nhosts:\n{hosts}targets:\n{targets}"
        "groups:\n  web: [web1, web2]\n"
        "waves:\n  - name: first\n    hosts: [web]\n    concurrency: 2\n"
        "  - name: second\n    hosts: [db1]\n"
        f"store:\n  url: {folder / 'store'}\n  key_file: {folder / 'key'}\n"
        f"ssh:\n  connect_timeout: 3\nnotify:\n  urls:\n    - {json.dumps(url)}\n")
    (folder / "store").mkdir(exist_ok=True)
    (folder / "key").write_text("c" * 64 + "\n")
    (folder / "key").chmod(0o600)
    return config


def test_a_fleet_plan_gives_every_host_a_result_and_is_not_gated(
        tmp_path: Path, endpoint: Endpoint) -> None:
    planned = _evacuate(_config(tmp_path, endpoint.url), "plan", "--all", "--json")
    assert planned.returncode == 1, planned.stderr
    document = json.loads(planned.stdout)
    assert (document["ok"], document["command"], document["waves"], document["stopped_after"]) \
        == (False, "plan", ["first", "second"], None)
    hosts = {h["host"]: h for h in document["hosts"]}
    assert [h["host"] for h in document["hosts"]] == ["web1", "web2", "db1"]
    assert {h: r["status"] for h, r in hosts.items()} == {
        "web1": "failed", "web2": "failed", "db1": "failed"}
    assert all("127.0.0.1" in r["error"] for r in hosts.values()), hosts
    assert (hosts["db1"]["wave"], hosts["db1"]["target"]) == ("second", "new-db1")


def test_a_fleet_run_skips_the_waves_after_a_failure_and_notifies(
        tmp_path: Path, endpoint: Endpoint) -> None:
    ran = _evacuate(_config(tmp_path, endpoint.url), "run", "web", "db1", "--json")
    assert ran.returncode == 1, ran.stderr
    document = json.loads(ran.stdout)
    assert document["stopped_after"] == "first"
    assert document["counts"] == {"ok": 0, "failed": 2, "skipped": 1}
    hosts = {h["host"]: h for h in document["hosts"]}
    assert hosts["web1"]["error"] == "no plan web1-to-new-web1 yet: run 'evacuate plan web1' first"
    assert hosts["db1"]["status"] == "skipped"
    assert "wave 'first' had a failed host" in hosts["db1"]["error"]
    saved = json.loads((tmp_path / "state" / "fleet" / "run-latest.json").read_text())
    assert saved == document
    assert len(endpoint.received) == 1, endpoint.received
    _path, _auth, body = endpoint.received[0]
    assert body["title"] == "evacuate run failed: 2 of 3 hosts"
    assert "web1 → new-web1 (wave first): failed at plan: no plan web1-to-new-web1" in \
        str(body["message"])
    assert "1 host(s) of later waves not run." in str(body["message"])
    assert SECRET not in ran.stdout + ran.stderr


def test_without_a_terminal_the_fleet_prints_plain_lines_and_a_table(
        tmp_path: Path, endpoint: Endpoint) -> None:
    ran = _evacuate(_config(tmp_path, endpoint.url), "run", "--wave", "second")
    assert ran.returncode == 1
    assert "run of 1 host(s) in 1 wave(s): second (1, 4 at once)" in ran.stderr
    assert "db1 (second): failed" in ran.stderr
    assert "host\ttarget\twave\tstatus\tstep\tmoved\ttime\twhat" in ran.stdout
    assert "db1\tnew-db1\tsecond\tfailed\tplan\t0 B\t" in ran.stdout
    assert "run: 1 failed" in ran.stdout


def test_bad_combinations_are_one_line(tmp_path: Path, endpoint: Endpoint) -> None:
    config = _config(tmp_path, endpoint.url)
    for args, expected in [
        (("run", "--all", "--dry-run"), "--dry-run, --snapshot, --resume and --node are "
                                        "for one plan"),
        (("run", "--all", "--fleet-limit-rate", "fast"), "--fleet-limit-rate: 'fast' is not a "
                                                         "rate"),
        (("plan", "--all", "--fleet-limit-rate", "0"), "--fleet-limit-rate: '0' is below one "
                                                       "byte per second"),
        (("run", "--continue-on-failure"), "--continue-on-failure is for a fleet"),
        (("plan", "web1", "web2", "--to", "new-web1"), "--to plans one source"),
        (("run", "--wave", "third"), "no wave named 'third' (waves: first, second)"),
        (("plan", "web9"), "no host or group named 'web9' in evacuate.yml"),
    ]:
        result = _evacuate(config, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
