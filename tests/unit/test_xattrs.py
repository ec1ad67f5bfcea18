"""The xattr dump (getfattr's --dump -e base64 form) and the device-number listing parse
what the host tools print, and the dump written for the target reads back the same."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from evacuate.snapshot.host import program
from evacuate.snapshot.scan import parse_devices
from evacuate.snapshot.xattrs import LOAD_COMMAND, dump_command, parse_dump, render_dump

GETFATTR = (b"# file: /srv/a\\040b\nuser.bin=0sAAH/\nuser.text=\"say \\042hi\\042\"\n"
            b"user.hex=0x6869\nuser.empty\n\n# file: /srv/caf\\351\\012x\nuser.eq\\075x=0seQ==\n\n"
            b"# file: /srv/none\n\n")


def test_a_getfattr_dump_parses_into_raw_paths_names_and_values() -> None:
    assert parse_dump(GETFATTR) == [
        (b"/srv/a b", [(b"user.bin", b"\x00\x01\xff"), (b"user.text", b'say "hi"'),
                       (b"user.hex", b"hi"), (b"user.empty", b"")]),
        (b"/srv/caf\xe9\nx", [(b"user.eq=x", b"y")]),
    ]


def test_a_rendered_dump_reads_back_the_same() -> None:
    files = parse_dump(GETFATTR)
    rendered = render_dump(files)
    assert b"\n" not in rendered.split(b"# file: ")[2].split(b"\n")[0]  # names stay one line
    assert parse_dump(rendered) == files


def test_device_numbers_are_decimal_major_minor() -> None:
    assert parse_devices(b"/dev/x\x0001:3\x00/srv/odd\nname\x00103:fe\x00") == {
        b"/dev/x": "1:3", b"/srv/odd\nname": "259:254"}


def _run(name: str, *args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run a host program the way the host does: its text through ``python3 -c``."""
    return subprocess.run(["python3", "-c", program(name), *args], input=input,
                          capture_output=True, timeout=60, check=False)


def test_the_host_programs_dump_and_load_user_xattrs(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    for root in (source, target):
        (root / "sub dir").mkdir(parents=True)
        (root / "sub dir" / "caf\xe9\nx").write_bytes(b"")
        (root / "plain").write_bytes(b"")
        (root / "link").symlink_to("plain")
    os.setxattr(source / "sub dir", "user.eq=x", b"\x00\x01\xff")
    os.setxattr(source / "sub dir" / "caf\xe9\nx", "user.text", b'say "hi"\n')
    os.setxattr(source / "plain", "trusted.x" if os.geteuid() == 0 else "user.p", b"1")

    dumped = _run("xattrs_dump", str(source))
    assert dumped.returncode == 0, dumped.stderr
    files = parse_dump(dumped.stdout)
    expected = {os.fsencode(source / "sub dir"): [(b"user.eq=x", b"\x00\x01\xff")],
                os.fsencode(source / "sub dir" / "caf\xe9\nx"): [(b"user.text", b'say "hi"\n')]}
    if os.geteuid() != 0:
        expected[os.fsencode(source / "plain")] = [(b"user.p", b"1")]
    assert dict(files) == expected  # only user.*, the symlink not followed

    moved = [(path.replace(os.fsencode(source), os.fsencode(target)), attrs)
             for path, attrs in files]
    loaded = _run("xattrs_load", input=render_dump(moved))
    assert loaded.returncode == 0, loaded.stderr
    assert os.getxattr(target / "sub dir", "user.eq=x") == b"\x00\x01\xff"
    assert os.getxattr(target / "sub dir" / "caf\xe9\nx", "user.text") == b'say "hi"\n'


def test_the_load_program_names_what_it_could_not_set(tmp_path: Path) -> None:
    missing = os.fsencode(tmp_path / "gone")
    loaded = _run("xattrs_load", input=render_dump([(missing, [(b"user.a", b"1")])]))
    assert loaded.returncode == 1
    assert str(tmp_path / "gone") in loaded.stderr.decode()


def test_the_commands_carry_the_program_files() -> None:
    assert shlex.quote(program("xattrs_dump")) in dump_command(["/srv"])
    assert shlex.quote(program("xattrs_load")) in LOAD_COMMAND
