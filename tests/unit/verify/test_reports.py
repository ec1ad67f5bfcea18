"""Reports: JUnit XML parsed back (testsuites/testsuite/testcase/failure), the HTML file holds
every check and nothing external, JSON, the terminal table, and the CLI's exit code."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evacuate.cli.verify_render import render_report
from evacuate.hostref import HostRef
from evacuate.verify.html_report import html_report
from evacuate.verify.junit import junit_xml
from evacuate.verify.model import Check, Status, VerifyReport, failed, passed, report_to_json

CHECKS = (
    passed("packages", "nginx", "1.22", "1.22"),
    failed("users", "alice", "2 key(s)", "1 key(s)", "authorized_keys 2 → 1 <&>", 0.5),
    Check("services", "notes.service", Status.ACCEPTED, "enabled/active", "-", "accepted: moved"),
    Check("inventory", "source docker", Status.SKIP, detail="not collected"),
    failed("data", "/srv/data/public/a.txt", "file 0644 root:root", "file 0644 bob:root",
           "owner root:root → bob:root"),
)


def report(checks: tuple[Check, ...] = CHECKS) -> VerifyReport:
    return VerifyReport("web1", "web1-new", "20261123T170000Z-abcd", "2026-11-23T17:00:00Z",
                        12.5, checks, {"inventory": 1.0, "files": 2.0})


def test_junit_has_the_schema_structure_and_one_testcase_per_check() -> None:
    root = ET.fromstring(junit_xml(report()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "2", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["inventory", "packages", "users", "services",
                                               "data"]
    for suite in suites:
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))
        assert suite.find("properties/property[@name='snapshot']") is not None
        for case in suite.findall("testcase"):
            assert case.get("classname", "").startswith("evacuate.verify.")
            float(case.get("time", ""))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == len(CHECKS)
    failure = cases["alice"].find("failure")
    assert failure is not None and failure.get("message") == "authorized_keys 2 → 1 <&>"
    assert "expected: 2 key(s)" in (failure.text or "")
    assert cases["source docker"].find("skipped") is not None
    assert cases["notes.service"].find("failure") is None
    assert "moved" in (cases["notes.service"].findtext("system-out") or "")
    assert cases["nginx"].find("failure") is None and cases["nginx"].find("skipped") is None


def test_html_is_self_contained_and_lists_every_check() -> None:
    text = html_report(report())
    assert text.startswith("<!doctype html>") and "<style>" in text
    for forbidden in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert forbidden not in text
    for check in CHECKS:
        assert f'id="{check.id}"' in text or check.id.replace("&", "&amp;") in text
        assert check.name in text
    assert "authorized_keys 2 → 1 &lt;&amp;&gt;" in text  # escaped
    assert "2 checks failed" in text and "files" in text  # verdict and timings
    ok = html_report(report((CHECKS[0],)))
    assert "the target is the same server" in ok


def test_json_and_ok() -> None:
    data = json.loads(json.dumps(report_to_json(report())))
    assert data["ok"] is False and data["counts"] == {"pass": 1, "fail": 2, "skip": 1,
                                                      "accepted": 1, "unverified": 0}
    assert data["checks"][1]["id"] == "users:alice" and data["checks"][1]["status"] == "fail"
    assert report((CHECKS[0], CHECKS[2], CHECKS[3])).ok


def test_terminal_table_puts_failures_first_and_counts_passes() -> None:
    from evacuate.cli.console import make_console

    buffer = io.StringIO()
    wide = make_console(buffer)
    wide.width = 200
    render_report(report(), out=wide)
    text = buffer.getvalue()
    assert "FAIL" in text and "alice" in text and "1 checks passed" in text
    assert "2 checks failed" in text


def test_cli_writes_the_reports_and_exits_1_on_failure(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import evacuate.cli.verify_cmds as cmds
    from evacuate.cli.app import run_cli

    seen: dict[str, object] = {}

    def fake_verify(source: HostRef, target: HostRef, options: object, repo: object,
                    config: object, **kwargs: object) -> VerifyReport:
        seen.update(kwargs, source=source.label, target=target.label)
        return report()

    monkeypatch.setattr(cmds.actions, "verify_target", fake_verify)
    monkeypatch.setattr(cmds, "open_repository", lambda *a, **k: None)
    junit, page = tmp_path / "v.xml", tmp_path / "v.html"
    code = run_cli(["verify", "root@192.0.2.10", "root@192.0.2.20", "--state-dir",
                    str(tmp_path / "state"), "--junit", str(junit), "--html", str(page),
                    "--snapshot", "2026", "--full"])
    assert code == 1
    assert ET.parse(junit).getroot().tag == "testsuites" and "alice" in page.read_text()
    assert seen["snapshot"] == "2026" and seen["source"] == "root@192.0.2.10"
    assert list((tmp_path / "state" / "reports").glob("verify-*.json"))
    monkeypatch.setattr(cmds.actions, "verify_target", lambda *a, **k: report((CHECKS[0],)))
    assert run_cli(["verify", "a.example", "b.example", "--state-dir", str(tmp_path / "s2"),
                    "--json"]) == 0
