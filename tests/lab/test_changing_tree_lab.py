"""A live tree changes while it is snapshotted: files vanish between the listing and the
read, a directory is removed, a log is rotated, one file shrinks and another grows while
tar reads them. The snapshot completes; every file it records is one real state of that
file (size and sha256 of what the source holds once the writers stopped), and every file
it leaves out is named in a warning.

The changes are made by a watcher on the source that acts when it sees tar holding a given
file open, so each lands in the middle of the stream, whatever the speed of the machine.
"""

from __future__ import annotations

from pathlib import Path

from evacuate.actions.snapshot import snapshot_host
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec

MiB = 1 << 20

SEED = """
set -e
rm -rf /root/churn /srv/churn /tmp/churn-done && mkdir -p /root/churn /srv/churn/gone-dir/sub
head -c 150M /dev/urandom > /root/churn/barrier.bin
head -c 100M /dev/urandom > /root/churn/shrink.bin
head -c 60M /dev/urandom > /root/churn/grow.log
for i in 1 2 3 4 5; do echo "gone $i" > /srv/churn/gone-$i.txt; echo "in dir $i" > \
  /srv/churn/gone-dir/sub/f$i; done
echo "old log" > /srv/churn/app.log
echo "stays" > /srv/churn/stays.txt
"""

# Acts once per file when tar has it open; gives up after two minutes.
WATCHER = r"""
act() {
  case "$1" in
    /root/churn/barrier.bin)
      rm -rf /srv/churn/gone-dir; rm -f /srv/churn/gone-*.txt
      mv /srv/churn/app.log /srv/churn/app.log.1; echo "new log" > /srv/churn/app.log ;;
    /root/churn/shrink.bin) truncate -s 1M /root/churn/shrink.bin ;;
    /root/churn/grow.log) head -c 5M /dev/urandom >> /root/churn/grow.log ;;
  esac
}
mkdir -p /tmp/churn-done
end=$(( $(date +%s) + 120 ))
while [ "$(date +%s)" -lt "$end" ] && [ "$(ls /tmp/churn-done | wc -l)" -lt 3 ]; do
  for pid in $(pgrep -x tar); do
    for fd in /proc/$pid/fd/*; do
      file=$(readlink "$fd" 2>/dev/null) || continue
      case "$file" in /root/churn/*) ;; *) continue ;; esac
      flag=/tmp/churn-done/$(basename "$file")
      [ -e "$flag" ] || { act "$file"; touch "$flag"; }
    done
  done
  sleep 0.02
done
"""


def _sha256s(lab: Lab, paths: list[str]) -> dict[str, tuple[int, str]]:
    with lab.open("lab-source") as source:
        lines = source.run(["sh", "-c", "for f in \"$@\"; do [ -f \"$f\" ] || continue; "
                            "printf '%s %s %s\\n' \"$(stat -c %s \"$f\")\" "
                            "\"$(sha256sum < \"$f\" | cut -d' ' -f1)\" \"$f\"; done", "sum",
                            *paths], timeout=120, check=True).text.splitlines()
    found = {}
    for line in lines:
        size, digest, path = line.split(" ", 2)
        found[path] = (int(size), digest)
    return found


def test_files_changing_and_vanishing_mid_snapshot(lab: Lab, tmp_path: Path) -> None:
    try:
        with lab.open("lab-source") as source:
            source.run(SEED, timeout=300, check=True)
            source.run("cat > /tmp/churn-watch.sh && (setsid sh /tmp/churn-watch.sh "
                       ">/tmp/churn-watch.log 2>&1 </dev/null &)", input=WATCHER.encode(),
                       timeout=30, check=True)
        repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
        options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
        ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
        manifest = snapshot_host(ref, options, repo, None)
        with lab.open("lab-source") as source:
            acted = source.run("ls /tmp/churn-done", timeout=30, check=True).text.split()
        assert sorted(acted) == ["barrier.bin", "grow.log", "shrink.bin"], acted

        recorded = {e.path: e for e in manifest.files
                    if e.path.startswith(("/root/churn/", "/srv/churn/"))}
        vanished = [f"/srv/churn/gone-{i}.txt" for i in range(1, 6)] + \
            [f"/srv/churn/gone-dir/sub/f{i}" for i in range(1, 6)]
        for path in vanished:
            assert path not in recorded
            assert any(w.startswith(path + ":") for w in manifest.warnings), path
        assert "/srv/churn/app.log.1" not in recorded  # appeared after the listing

        files = {p: e for p, e in recorded.items() if e.kind == "file"}
        now = _sha256s(lab, sorted(files))
        assert set(files) == set(now)
        for path, entry in files.items():
            assert entry.blob is not None, path
            assert (entry.size, entry.blob.size, entry.blob.sha256) == (
                now[path][0], now[path][0], now[path][1]), path
        assert files["/root/churn/shrink.bin"].size == MiB
        assert files["/root/churn/grow.log"].size == 65 * MiB
        assert repo.blobs.read_blob(files["/srv/churn/app.log"].blob) == b"new log\n"  # type: ignore[arg-type]
    finally:
        lab.reset("lab-source")
