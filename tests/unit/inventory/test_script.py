"""The batched script: valid POSIX sh, sections framed and split back exactly."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import evacuate
import evacuate.inventory.facts
from evacuate.inventory.facts import ALL_FACTS
from evacuate.inventory.facts.base import Fact, snippet
from evacuate.inventory.script import build_script, split_sections


def run_sh(script: str, timeout: float = 60) -> str:
    result = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True,
                            timeout=timeout, check=False)
    return result.stdout.decode("utf-8", "surrogateescape")


def fact(name: str, script: str, timeout: int = 10) -> Fact[str]:
    return Fact(name=name, script=script, parse=str, default=str, timeout=timeout)


def test_generated_script_is_valid_posix_sh(tmp_path) -> None:
    path = tmp_path / "inventory.sh"
    path.write_text(build_script(ALL_FACTS))
    subprocess.run(["sh", "-n", str(path)], check=True)
    for fact_ in ALL_FACTS:  # each snippet as it runs inside its section's sh -c
        snippet = tmp_path / f"{fact_.name}.sh"
        snippet.write_text(fact_.script)
        subprocess.run(["sh", "-n", str(snippet)], check=True)


FACTS_SH = Path(evacuate.inventory.facts.__file__).parent / "sh"
PACKAGE = Path(evacuate.__file__).parent
SNIPPET_FILES = sorted(FACTS_SH.glob("*.sh"))
# Every other sh program the package ships (a host runs it through sh -c).
PROGRAM_FILES = sorted(p for p in PACKAGE.rglob("*.sh") if p.parent != FACTS_SH)


@pytest.fixture
def needs_shellcheck() -> None:
    """'make deps' installs shellcheck: missing, the lint tests fail rather than skip."""
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck not installed ('make deps' installs it)")


def shellcheck(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    # SC2016: '$' in single quotes is meant for awk/dpkg-query/rpm, not the shell.
    return subprocess.run(["shellcheck", "-s", "sh", "-e", "SC2016", *options, str(path)],
                          capture_output=True, text=True, check=False)


@pytest.mark.usefixtures("needs_shellcheck")
@pytest.mark.parametrize("fact_", ALL_FACTS, ids=lambda f: f.name)
def test_snippets_pass_shellcheck(tmp_path, fact_) -> None:
    path = tmp_path / f"{fact_.name}.sh"
    # The helpers come from the prelude every snippet gets; declare them for shellcheck.
    path.write_text("#!/bin/sh\nevac_part() { :; }\nevac_has() { :; }\n" + fact_.script)
    result = shellcheck(path)
    assert result.returncode == 0, result.stdout


@pytest.mark.usefixtures("needs_shellcheck")
@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.name)
def test_snippet_files_pass_shellcheck(tmp_path, path: Path) -> None:
    checked = tmp_path / path.name
    checked.write_text("#!/bin/sh\nevac_part() { :; }\nevac_has() { :; }\n" + path.read_text())
    result = shellcheck(checked)
    assert result.returncode == 0, f"{path.relative_to(PACKAGE)}:\n{result.stdout}"


@pytest.mark.usefixtures("needs_shellcheck")
@pytest.mark.parametrize("path", PROGRAM_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_shipped_sh_programs_pass_shellcheck(path: Path) -> None:
    # The lab's seed builds a lab image, never runs on a user's host: warnings only there.
    options = ("--severity=warning",) if "lab" in path.relative_to(PACKAGE).parts else ()
    result = shellcheck(path, *options)
    assert result.returncode == 0, result.stdout


def test_every_snippet_file_is_a_facts_script() -> None:
    scripts = {f.script for f in ALL_FACTS}
    assert len(SNIPPET_FILES) >= 20
    for path in SNIPPET_FILES:
        # a template's @NAME@ placeholders are filled from its module's constants
        pattern = re.compile("".join(".*?" if re.fullmatch(r"@[A-Z_]+@", part) else re.escape(part)
                                     for part in re.split(r"(@[A-Z_]+@)", path.read_text())),
                             re.S)
        assert any(pattern.fullmatch(script) for script in scripts), \
            f"{path.name} is not any fact family's script"
    assert snippet("sysctl") == (FACTS_SH / "sysctl.sh").read_text()


def test_programs_are_found() -> None:
    assert PACKAGE / "rebuild" / "sh" / "pgcarry.sh" in PROGRAM_FILES


@pytest.mark.usefixtures("needs_shellcheck")
def test_whole_script_passes_shellcheck(tmp_path) -> None:
    path = tmp_path / "inventory.sh"
    path.write_text("#!/bin/sh\n" + build_script(ALL_FACTS))
    # Snippets are single-quoted sh -c arguments: SC2016 is every one of them.
    result = subprocess.run(["shellcheck", "-s", "sh", "-e", "SC2016", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_sections_come_back_byte_for_byte() -> None:
    facts = [
        fact("no_newline", "printf 'a\\nb'"),
        fact("trailing_newline", "printf 'a\\nb\\n'"),
        fact("blank_lines", "printf '\\n\\nx\\n\\n'"),
        fact("empty", ":"),
        fact("failing", "echo partial; exit 3"),
        fact("fake_marker", "echo '@@EVAC-END other rc=0@@'; echo after"),
    ]
    sections = split_sections(run_sh(build_script(facts)))
    assert sections["no_newline"].text == "a\nb"
    assert sections["trailing_newline"].text == "a\nb\n"
    assert sections["blank_lines"].text == "\n\nx\n\n"
    assert sections["empty"].text == "" and sections["empty"].ok
    assert sections["failing"].rc == 3 and not sections["failing"].timed_out
    assert sections["fake_marker"].text == "@@EVAC-END other rc=0@@\nafter\n"


def test_a_hung_section_is_cut_off_and_the_rest_still_runs() -> None:
    facts = [fact("hang", "sleep 30", timeout=1), fact("after", "echo fine")]
    sections = split_sections(run_sh(build_script(facts), timeout=20))
    assert sections["hang"].timed_out
    assert sections["after"].text == "fine\n"


def test_a_snippet_cannot_leak_into_the_next_section() -> None:
    facts = [fact("first", "x=leaked; cd /; exit 0"), fact("second", "echo \"[$x]\"")]
    assert split_sections(run_sh(build_script(facts)))["second"].text == "[]\n"


def test_bad_section_names_are_refused() -> None:
    with pytest.raises(ValueError):
        build_script([fact("bad name; rm -rf /", ":")])


def test_output_cut_off_mid_section() -> None:
    sections = split_sections("@@EVAC-BEGIN os@@\nID=debian\n@@EVAC-BEGIN users@@\nroot")
    assert set(sections) == {"os"}
    assert sections["os"].rc is None and sections["os"].timed_out
    assert sections["os"].text == "ID=debian\n@@EVAC-BEGIN users@@\nroot"


@given(st.dictionaries(
    st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True),
    st.tuples(st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
              st.integers(0, 255)),
    max_size=5,
))
def test_split_inverts_the_framing(sections: dict[str, tuple[str, int]]) -> None:
    # What evac_section prints, for any section text.
    stdout = "".join(f"@@EVAC-BEGIN {name}@@\n{text}\n@@EVAC-END {name} rc={rc}@@\n"
                     for name, (text, rc) in sections.items())
    split = split_sections(stdout)
    for name, (text, rc) in sections.items():
        if f"\n@@EVAC-END {name} rc=" in "\n" + text:
            continue  # the text forges its own END marker: undefined, skip
        assert split[name].text == text
        assert split[name].rc == rc
