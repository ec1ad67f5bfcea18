"""Redis on the lab: redis-server installed on lab-source at test time (from the lab's apt
repository), password protected and with appendonly yes, keys seeded in two dbs; snapshot →
plan → run; the target answers with the same key count per db, the source's redis files are
untouched, and the password appears in no output, plan or state file. A value changed on
the target with the same key count fails verify (the content digest per db); a snapshot of
an unchanged redis keeps the previous RDB, a changed value or expiry takes it anew."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from evacuate.config import load_config
from evacuate.lab import aptrepo
from evacuate.lab.lab import Lab
from evacuate.snapshot.manifest import DumpEntry
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import Transport
from tests.lab.test_run_lab import evacuate, write_config

PASSWORD = "canary-redis-5be11e"
KEYS = {"db0": 1000, "db3": 25}
CONF = "/etc/redis/redis.conf"
AUTH = (f"REDISCLI_AUTH=$(sed -n 's/^requirepass //p' {CONF}) && export REDISCLI_AUTH && ")
KEYSPACE = AUTH + "redis-cli INFO keyspace | tr -d '\\r' | grep '^db'"
# The branch's verify expects an enabled socket unit active on the target, and the activate
# step starts services only: not this test's business (tests/lab/test_run_lab.py sees it).
UNRELATED = "services:mariadb.socket"
FILES = "find /var/lib/redis -printf '%p %s %T@\\n' | sort"


def keyspace(text: str) -> dict[str, int]:
    return {line.split(":")[0]: int(line.split("keys=")[1].split(",")[0])
            for line in text.splitlines() if line.startswith("db")}


def install_redis(lab: Lab, source: Transport) -> None:
    """redis-server on lab-source from the lab's repository, with PASSWORD and appendonly
    yes, KEYS seeded and saved."""
    # the source keeps its real sources.list (it has no network): install from the lab
    # repository through a list of its own, removed afterwards
    repo = (f"deb [trusted=yes] http://{lab.spec.network.gateway}:"
            f"{aptrepo.repo_port(lab.spec.index)}/bookworm ./")
    apt = ("-o Dir::Etc::SourceList=/tmp/lab-repo.list -o Dir::Etc::SourceParts=/dev/null")
    installed = source.run(f"echo '{repo}' > /tmp/lab-repo.list && apt-get {apt} update -q "
                           f"&& DEBIAN_FRONTEND=noninteractive apt-get {apt} install -y -q "
                           "--no-install-recommends redis-server; s=$?; "
                           "rm -f /tmp/lab-repo.list; exit $s", timeout=600)
    assert installed.ok, installed.text[-2000:] + installed.error_text
    source.run(f"printf '\\nrequirepass {PASSWORD}\\nappendonly yes\\n' >> {CONF} && "
               "systemctl restart redis-server", timeout=120, check=True)
    for db, count in KEYS.items():
        source.run(AUTH + f"seq 1 {count} | sed 's/.*/SET key:& value-&/' | "
                   f"redis-cli -n {db[2:]} >/dev/null", timeout=120, check=True)
    assert keyspace(source.run(KEYSPACE, check=True).text) == KEYS
    source.run(AUTH + "redis-cli SAVE", check=True)


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    lab.reset("lab-source")
    lab.reset("lab-target")
    with lab.open("lab-source") as source:
        install_redis(lab, source)
        before = source.run(FILES, check=True).text
    folder = tmp_path_factory.mktemp("redis")
    config = write_config(lab, folder)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr
    ran = evacuate(config, "run")
    output = ran.stdout + ran.stderr
    assert "databases done in" in output and "redis:keyspace: restored" in output, output[-3000:]
    if ran.returncode != 0:  # only a failure this test is not about may remain
        assert f"1 checks failed ({UNRELATED})" in output, output[-3000:]
    with lab.open("lab-source") as source:
        after = source.run(FILES, check=True).text
    return folder, planned.stdout + ran.stdout + ran.stderr, before + "\n--\n" + after


def test_the_target_has_the_same_keys_per_db(lab: Lab, evacuated: tuple[Path, str, str]
                                            ) -> None:
    with lab.open("lab-target") as target:
        assert keyspace(target.run(KEYSPACE, check=True).text) == KEYS
        persistence = target.run(AUTH + "redis-cli CONFIG GET appendonly", check=True).text
        assert "yes" in persistence  # the source's persistence settings


def test_verify_compared_the_key_counts(evacuated: tuple[Path, str, str]) -> None:
    folder, output, _files = evacuated
    assert "not verified: redis" not in output
    reports = sorted((folder / "state" / "reports").glob("verify-*.json"))
    checks = json.loads(reports[-1].read_text())["checks"]
    redis = {c["name"]: c["status"] for c in checks if c["area"] == "redis"}
    assert redis == {f"keyspace: {db}": "pass" for db in KEYS}
    assert [c["id"] for c in checks if c["status"] == "fail"] in ([], [UNRELATED])


def test_the_source_files_are_untouched(evacuated: tuple[Path, str, str]) -> None:
    before, _, after = evacuated[2].partition("\n--\n")
    assert before == after


def test_the_password_is_nowhere(evacuated: tuple[Path, str, str]) -> None:
    folder, output, _files = evacuated
    assert PASSWORD not in output
    found = subprocess.run(["grep", "-rl", PASSWORD, str(folder / "state")],
                           capture_output=True, text=True)
    leaked = [f for f in found.stdout.split() if "/store/" not in f]  # the store is encrypted
    assert leaked == [], json.dumps(leaked)


def _latest_redis_dump(folder: Path) -> tuple[str, DumpEntry]:
    loaded = load_config(folder / "evacuate.yml")
    manifest = open_repository(loaded, StateDir(loaded.state_dir)).latest("source")
    assert manifest is not None
    return manifest.id, next(d for d in manifest.dumps if d.engine == "redis")


def test_verify_fails_a_changed_value_with_the_same_key_count(
        lab: Lab, evacuated: tuple[Path, str, str]) -> None:
    folder = evacuated[0]
    config = folder / "evacuate.yml"
    _, dump = _latest_redis_dump(folder)
    assert set(dump.objects) == {f"content {db}" for db in KEYS}  # a digest per db
    with lab.open("lab-target") as target:
        target.run(AUTH + "redis-cli -n 3 SET key:7 broken >/dev/null", check=True)
    try:
        broken = evacuate(config, "verify", "source", "target")
        assert broken.returncode == 1, broken.stdout[-3000:]
        saved = broken.stderr.split("report saved to ", 1)[1].split()[0]
        checks = {c["name"]: c for c in json.loads(Path(saved).read_text())["checks"]
                  if c["area"] == "redis"}
        assert checks["keyspace: db0"]["status"] == "pass"
        assert checks["keyspace: db3"]["status"] == "fail"
        assert "same row count, content differs" in checks["keyspace: db3"]["detail"]
    finally:
        with lab.open("lab-target") as target:
            target.run(AUTH + "redis-cli -n 3 SET key:7 value-7 >/dev/null", check=True)
    again = evacuate(config, "verify", "source", "target")
    output = again.stdout + again.stderr
    assert again.returncode == 0 or f"1 checks failed ({UNRELATED})" in output, output[-3000:]


def test_an_unchanged_redis_keeps_its_dump_and_a_changed_one_is_dumped(
        lab: Lab, evacuated: tuple[Path, str, str]) -> None:
    folder = evacuated[0]
    config = folder / "evacuate.yml"
    first = evacuate(config, "snapshot", "source")
    assert first.returncode == 0, first.stderr[-3000:]
    _, kept = _latest_redis_dump(folder)
    second = evacuate(config, "snapshot", "source")
    assert second.returncode == 0, second.stderr[-3000:]
    _, again = _latest_redis_dump(folder)
    assert again.unchanged_since and again.blob == kept.blob and again.marker == kept.marker
    with lab.open("lab-source") as source:  # a value changes, the key count does not
        source.run(AUTH + "redis-cli -n 0 SET key:5 changed >/dev/null", check=True)
    try:
        third = evacuate(config, "snapshot", "source")
        assert third.returncode == 0, third.stderr[-3000:]
        _, changed = _latest_redis_dump(folder)
        assert not changed.unchanged_since and changed.blob != kept.blob
        assert changed.tables == kept.tables
        assert changed.objects["content db0"] != kept.objects["content db0"]
        assert changed.objects["content db3"] == kept.objects["content db3"]
        source_expiry = AUTH + "redis-cli -n 3 PEXPIRE key:1 86400000 >/dev/null"
        with lab.open("lab-source") as source:  # only an expiry changes: the marker moves
            source.run(source_expiry, check=True)
        fourth = evacuate(config, "snapshot", "source")
        assert fourth.returncode == 0, fourth.stderr[-3000:]
        _, expiring = _latest_redis_dump(folder)
        assert expiring.objects == changed.objects and expiring.marker != changed.marker
        assert not expiring.unchanged_since
    finally:
        with lab.open("lab-source") as source:
            source.run(AUTH + "redis-cli -n 0 SET key:5 value-5 >/dev/null && "
                       + AUTH + "redis-cli -n 3 PERSIST key:1 >/dev/null", check=True)
