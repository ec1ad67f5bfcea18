"""The xattr dump (getfattr's --dump -e base64 form) and the device-number listing parse
what the host tools print, and the dump written for the target reads back the same."""

from __future__ import annotations

from evacuate.snapshot.scan import parse_devices
from evacuate.snapshot.xattrs import parse_dump, render_dump

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
