"""Verification against the real lab-source: the source verified against its own snapshot
passes every check (no false failures) and leaves nothing the inventory saw not verified; broken in six ways, each breakage is a failed
check naming the object; the JUnit and HTML reports render and parse."""

from __future__ import annotations

import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evacuate.actions.snapshot import snapshot_host
from evacuate.actions.verify import verify_target
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from evacuate.verify.html_report import write_html
from evacuate.verify.junit import write_junit
from evacuate.verify.model import Status, VerifyReport

BREAKAGES = (
    "systemctl stop notes",
    "runuser -u postgres -- psql -XAq -d shop -c 'delete from orders where id = 1'",
    "sed -i '$d' /home/alice/.ssh/authorized_keys",
    "echo '# changed after the snapshot' >> /etc/nginx/nginx.conf",
    "echo '<p>defaced</p>' >> /var/www/www.example.test/index.html",
    "chown bob /srv/data/public/a.txt",
    # what row counts alone would pass: a changed row, a lost grant, view and trigger
    "runuser -u postgres -- psql -XAq -d shop -c \"update products set title = 'changed' "
    "where id = 7\"",
    "runuser -u postgres -- psql -XAq -d shop -c 'revoke select on customers from reporting'",
    "runuser -u postgres -- psql -XAq -d shop -c 'drop view order_totals'",
    "mariadb -D blog -e 'DROP TRIGGER comments_author'",
)

EXPECTED_FAILURES = (
    "services:notes.service",
    "listeners:tcp/8080",
    "answers:notes.service tcp/8080",
    "databases:shop: public.orders",
    "users:alice",
    "config:/etc/nginx/nginx.conf",
    "web:http://www.example.test:80/",
    "data:/var/www/www.example.test/index.html",
    "data:/srv/data/public/a.txt",
    "databases:shop: public.products",
    "databases:shop: relation",
    "databases:shop: view",
    "databases:blog: trigger",
)


def _failures(report: VerifyReport) -> str:
    return "\n".join(f"{c.id}: {c.detail} (expected {c.expected}, found {c.found})"
                     for c in report.failures())


def test_verify_passes_on_the_source_and_names_each_breakage(lab: Lab, tmp_path: Path) -> None:
    lab.reset("lab-source")
    state = StateDir(tmp_path / "state")
    repo = open_repository(None, state, create=True)
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    source = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    manifest = snapshot_host(source, options, repo, None)

    started = time.monotonic()
    clean = verify_target(source, source, options, repo, None, manifest=manifest)
    clean_seconds = time.monotonic() - started
    print(f"clean verify: {clean_seconds:.1f} s, {len(clean.checks)} checks, {clean.timings}")
    assert clean.ok, _failures(clean)
    # every port, enabled unit, data store and data tree the inventory saw has a check
    assert not clean.not_verified(), [(c.id, c.detail) for c in clean.not_verified()]
    assert clean.coverage.seen > 25 and clean.coverage.checked == clean.coverage.seen
    assert clean.passes(strict=True)
    areas = {c.area for c in clean.checks}
    assert {"packages", "users", "groups", "sudoers", "cron", "services", "listeners", "config",
            "data", "databases", "web", "answers"} <= areas
    assert len(clean.checks) > 200 and clean_seconds < 60

    try:
        with lab.open("lab-source") as host:
            for command in BREAKAGES:
                host.run(command, timeout=60, check=True)
        broken = verify_target(source, source, options, repo, None)  # latest snapshot
        failed = {c.id: c for c in broken.checks if c.status is Status.FAIL}
        missing = [name for name in EXPECTED_FAILURES if name not in failed]
        assert not missing, f"not reported: {missing}\nreported:\n{_failures(broken)}"
        assert "authorized_keys 2 → 1" in failed["users:alice"].detail
        assert "owner" in failed["data:/srv/data/public/a.txt"].detail
        assert "bob:" in failed["data:/srv/data/public/a.txt"].found
        assert failed["databases:shop: public.orders"].found == "4999 rows"
        assert failed["databases:shop: public.products"].detail == \
            "same row count, content differs"
        assert "reporting=r/shop" in failed["databases:shop: relation"].detail
        assert failed["databases:blog: trigger"].detail == "missing: trigger comments_author"

        junit = ET.parse(write_junit(broken, tmp_path / "verify.xml")).getroot()
        assert junit.tag == "testsuites"
        cases = junit.findall("testsuite/testcase")
        assert len(cases) == len(broken.checks)
        failing = {f"{c.get('classname', '').rsplit('.', 1)[-1]}:{c.get('name')}"
                   for c in cases if c.find("failure") is not None}
        assert set(EXPECTED_FAILURES) <= failing
        assert int(junit.get("failures", "0")) == len(failed)

        page = write_html(broken, tmp_path / "verify.html")
        text = page.read_text()
        assert "/srv/data/public/a.txt" in text and "<link" not in text and "<script" not in text
        _screenshot(page, tmp_path)
    finally:
        lab.reset("lab-source")


def _screenshot(page: Path, folder: Path) -> None:
    chromium = shutil.which("chromium") or ("/usr/bin/chromium"
                                            if Path("/usr/bin/chromium").exists() else None)
    if chromium is None:
        return  # optional: only where a headless chromium is installed
    shot = folder / "verify.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    if not shot.exists():
        pytest.skip("chromium did not write a screenshot")
