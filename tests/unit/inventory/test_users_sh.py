"""users.sh's creators part run for real (sh and awk of this machine) on maintainer scripts
and sysusers.d files of its own: which package creates which account."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evacuate.inventory.facts import FACTS_BY_NAME
from evacuate.inventory.facts.base import Fact
from evacuate.inventory.model import Accounts
from evacuate.inventory.script import build_script, split_sections

FACT = FACTS_BY_NAME["users"]
INFO, SYSUSERS = "/var/lib/dpkg/info/", "/usr/lib/sysusers.d/"


def _run(info: Path, sysusers: Path) -> tuple[Accounts, str]:
    assert INFO in FACT.script and SYSUSERS in FACT.script
    script = FACT.script.replace(INFO, f"{info}/").replace(SYSUSERS, f"{sysusers}/")
    fact = Fact(name=FACT.name, script=script, parse=FACT.parse, default=FACT.default,
                timeout=60)
    out = subprocess.run(["sh", "-s"], input=build_script([fact]).encode(),
                         capture_output=True, check=True, timeout=60).stdout.decode()
    text = split_sections(out)[FACT.name].text
    return FACT.parse(text), text.split("@@-- creators@@\n", 1)[1]


def test_every_maintainer_scripts_account_lines_are_named_with_their_package(
        tmp_path: Path) -> None:
    info, sysusers = tmp_path / "info", tmp_path / "sysusers.d"
    info.mkdir()
    sysusers.mkdir()
    (info / "redis-server.postinst").write_text(
        "#!/bin/sh\nset -e\n# adduser someone is only a comment\n"
        "adduser --system --group --no-create-home \\\n   --home /var/lib/redis redis\n")
    # an arch-qualified name, a script whose last line is continued (not carried into the
    # next file's first line)
    (info / "libfoo:amd64.preinst").write_text("groupadd -r foogroup \\\n")
    (info / "libbar:amd64.postinst").write_text("addgroup --system bargroup\n")
    (info / "zeta.postinst").write_text("echo no account here\n")
    (info / "postfix.preinst").write_text("useradd -r postfix\n")
    (info / "nothing.list").write_text("/usr/bin/adduser\n")  # not a maintainer script
    (sysusers / "basic.conf").write_text("# comment\nu daemonuser 42 \"A daemon\"\ng grp -\n")
    _, creators = _run(info, sysusers)
    lines = creators.splitlines()
    assert "postfix useradd -r postfix" in lines
    assert ("redis-server adduser --system --group --no-create-home     --home /var/lib/redis"
            " redis") in lines
    assert "libbar addgroup --system bargroup" in lines
    assert not any(line.startswith(("libfoo", "zeta", "nothing")) for line in lines)
    # this machine's dpkg does not own the file: "?" (which the parser drops)
    assert '? sysusers u daemonuser 42 "A daemon"' in lines
    assert "? sysusers g grp -" in lines


def test_no_maintainer_scripts_and_no_sysusers_files_is_no_creator(tmp_path: Path) -> None:
    (tmp_path / "info").mkdir()
    (tmp_path / "sysusers.d").mkdir()
    accounts, creators = _run(tmp_path / "info", tmp_path / "sysusers.d")
    assert creators.strip() == ""
    assert accounts.users  # the rest of the section still ran: this machine's accounts
