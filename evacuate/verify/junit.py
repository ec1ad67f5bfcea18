"""A verification report as JUnit XML (what CI systems show as test results): one
``testsuite`` per area, one ``testcase`` per check; a failed check carries ``failure``
with its detail as message and expected/found as text, a skipped one ``skipped``, a
not-verified one ``skipped`` with a message beginning "not verified:", an accepted one its
reason in ``system-out``. The coverage figure is a property of every suite."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from evacuate.verify.model import Status, VerifyReport

_SKIPPED = (Status.SKIP, Status.UNVERIFIED)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def junit_xml(report: VerifyReport) -> bytes:
    """Return ``report`` as a JUnit XML document (UTF-8, with declaration)."""
    counts = report.counts()
    root = ET.Element("testsuites", {
        "name": f"evacuate verify {report.target} against {report.source}",
        "tests": str(len(report.checks)), "failures": str(counts["fail"]), "errors": "0",
        "skipped": str(counts["skip"] + counts["unverified"]), "time": _seconds(report.duration),
    })
    for area, checks in report.by_area():
        suite = ET.SubElement(root, "testsuite", {
            "name": area, "tests": str(len(checks)),
            "failures": str(sum(c.status is Status.FAIL for c in checks)), "errors": "0",
            "skipped": str(sum(c.status in _SKIPPED for c in checks)),
            "time": _seconds(sum(c.duration for c in checks)),
            "timestamp": report.started.rstrip("Z"), "hostname": report.target,
        })
        properties = ET.SubElement(suite, "properties")
        for name, value in (("source", report.source), ("target", report.target),
                            ("snapshot", report.snapshot),
                            ("coverage", f"{report.coverage.summary()}, "
                                         f"{report.coverage.not_verified} not verified")):
            ET.SubElement(properties, "property", {"name": name, "value": value})
        for check in checks:
            case = ET.SubElement(suite, "testcase", {
                "classname": f"evacuate.verify.{area}", "name": check.name,
                "time": _seconds(check.duration)})
            if check.status is Status.FAIL:
                failure = ET.SubElement(case, "failure", {
                    "message": check.detail or "differs", "type": "VerifyFailure"})
                failure.text = f"expected: {check.expected}\nfound: {check.found}"
            elif check.status is Status.SKIP:
                ET.SubElement(case, "skipped", {"message": check.detail or "skipped"})
            elif check.status is Status.UNVERIFIED:
                ET.SubElement(case, "skipped", {"message": f"not verified: {check.detail}"})
            elif check.status is Status.ACCEPTED:
                out = ET.SubElement(case, "system-out")
                out.text = (f"{check.detail}\nexpected: {check.expected}\n"
                            f"found: {check.found}")
    ET.indent(root)
    for element in root.iter():  # file names that are not UTF-8 show as \\xNN escapes
        if element.text:
            element.text = _printable(element.text)
        for name, value in element.attrib.items():
            element.attrib[name] = _printable(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_junit(report: VerifyReport, path: Path) -> Path:
    path.write_bytes(junit_xml(report))
    return path
