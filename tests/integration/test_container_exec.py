"""sh/container_exec.sh run for real (nsenter, as root): a program runs in a process's
namespaces as a user of that process's /etc/passwd, with that process's environment, its
stdin passed on only when asked; a container that is not running or has no such user is
exit 125 with one line. The "container" is a sleeping process that ``unshare`` gave its own
mount, UTS, IPC, network and PID namespaces (its own hostname, a tmpfs only it sees, only a
loopback link), found through a fake engine CLI that answers ``container inspect`` as
Podman and Docker do: the program must be in each of them."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.engines.container_cli import container_cli

HOSTNAME = "shop-db"
NAMESPACES = ("mnt", "uts", "ipc", "net", "pid")


def _child(pid: int) -> int:
    """The process ``unshare --fork`` (``pid``) started: the container's first process, once
    it sleeps in its namespaces (polled with a deadline)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children and Path(f"/proc/{children[0]}/comm").read_text() == "sleep\n":
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("the container's process did not start")


@pytest.fixture
def container(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    assert os.geteuid() == 0, "nsenter needs root, as the lab does"
    proc = subprocess.Popen(
        ["unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "--mount-proc",
         "sh", "-c", f"hostname {HOSTNAME} && mount -t tmpfs shop-db /mnt && "
         "echo 'only in the container' > /mnt/marker && exec sleep 300"],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SHOP_MARKER": "from the container"})
    inner = _child(proc.pid)
    fake = tmp_path / "bin"
    fake.mkdir()
    cli = fake / "podman"
    cli.write_text("#!/bin/sh\n"
                   "[ \"$1 $2 $3\" = 'container inspect --format' ] || exit 2\n"
                   f"case \"$5\" in shop_db_1) echo {inner} ;; stopped) echo 0 ;; "
                   "*) echo \"no such container\" >&2; exit 125 ;; esac\n")
    cli.chmod(0o755)
    try:
        yield fake, inner
    finally:
        proc.kill()
        proc.wait()


def _run(fake: Path, prefix: str, program: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{fake}:/usr/sbin:/usr/bin:/sbin:/bin", "SHOP_MARKER": "from evacuate"}
    return subprocess.run(["sh", "-c", f"{prefix} {program}"], input=stdin.decode(), env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_program_runs_as_the_containers_user_with_its_environment(
        container: tuple[Path, int]) -> None:
    fake, _pid = container
    cli = container_cli("podman")
    done = _run(fake, cli.exec("shop_db_1", "nobody"),
                "sh -c 'echo \"$(id -u):$(id -g) $SHOP_MARKER $HOME\"'")
    assert done.returncode == 0, done.stderr
    nobody = next(line.split(":") for line in Path("/etc/passwd").read_text().splitlines()
                  if line.startswith("nobody:"))
    assert done.stdout == f"{nobody[2]}:{nobody[3]} from the container {nobody[5]}\n"
    assert _run(fake, cli.exec("shop_db_1"), "id -u").stdout == "0\n"
    numeric = _run(fake, cli.exec("shop_db_1", "1234:4321"), "sh -c 'echo $(id -u):$(id -g)'")
    assert numeric.stdout == "1234:4321\n", numeric.stderr


def test_stdin_is_passed_on_only_when_asked(container: tuple[Path, int]) -> None:
    fake, _pid = container
    cli = container_cli("podman")
    assert _run(fake, cli.exec("shop_db_1", stdin=True), "cat", b"a query\n").stdout == "a query\n"
    assert _run(fake, cli.exec("shop_db_1"), "cat", b"the rest of a script\n").stdout == ""


def test_a_stopped_container_or_an_unknown_user_is_one_line_exit_125(
        container: tuple[Path, int]) -> None:
    fake, _pid = container
    cli = container_cli("podman")
    stopped = _run(fake, cli.exec("stopped"), "true")
    assert (stopped.returncode, stopped.stderr) == (125, "container-exec: stopped is not running\n")
    nobody_here = _run(fake, cli.exec("shop_db_1", "no-such-user"), "true")
    assert nobody_here.returncode == 125
    assert nobody_here.stderr == "container-exec: shop_db_1 has no user no-such-user\n"
    assert "podman exec" not in cli.exec("shop_db_1") and shlex.split(cli.exec("x"))[0] == "sh"


def test_the_program_is_in_each_of_the_containers_namespaces(
        container: tuple[Path, int]) -> None:
    """Its mount (the tmpfs only the container sees), UTS (hostname), network (only lo) and
    PID namespaces, and each namespace link the container's process has."""
    fake, pid = container
    cli = container_cli("podman")
    links = " ".join(f"/proc/self/ns/{n}" for n in NAMESPACES)
    done = _run(fake, cli.exec("shop_db_1", "nobody"),
                f"sh -c 'cat /mnt/marker; hostname; sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d \" \"; "
                f"readlink {links}'")
    assert done.returncode == 0, done.stderr
    outside = [os.readlink(f"/proc/{pid}/ns/{n}") for n in NAMESPACES]
    assert outside != [os.readlink(f"/proc/self/ns/{n}") for n in NAMESPACES]
    assert done.stdout.splitlines() == ["only in the container", HOSTNAME, "lo", *outside]
