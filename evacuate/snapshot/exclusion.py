"""What a snapshot carries, by exclusion: every entry on the source's local disk file systems
moves unless a **named rule** says why it stays behind. Pure: a listing goes in, each entry
comes out with the rule that decided it, and the totals per rule go into the manifest (and
from there into the plan).

The rules, first match wins (a rule's patterns are trees: a pattern matches the path and
everything under it; ``*`` matches across ``/``):

- ``include`` / ``exclude``: evacuate.yml's ``include`` (carried whatever else would say)
  and ``exclude`` (left).
- ``virtual``: mount points of file systems that are not local disks (proc, sysfs, tmpfs,
  network file systems, as the mount table says); their content is never listed.
- ``runtime``, ``filesystem``, ``swap``: temporary files, ``lost+found``, swap files (as
  /proc/swaps says).
- ``database``: the data directories of the database servers that are dumped (from the
  inventory's database facts); their dumps carry them.
- ``container-engine-data``: the named volume holding the data directory of a database
  server that runs in a container (evacuate.engines.in_containers): its dumps carry it.
- ``container-volumes`` (carried), ``container-storage``: a container engine's named
  volumes' data (their mount points as the engine says, and ``volumes/*/_data`` of its
  storage) moves as files; the rest of its storage (image layers, containers' writable
  layers, its state database) does not. The storage is where the engine says it keeps it
  (Podman's GraphRoot, Docker's DockerRootDir: an admin may have moved it to a data disk),
  and the engines' defaults (``/var/lib/containers``, ``/var/lib/docker``).
- ``logs`` (/var/log; carried with ``--with-logs``), ``caches`` (/var/cache only: hidden
  directories inside data trees such as /srv/x/.cache are data).
- ``package-manager``, ``boot``, ``identity``, ``daemon-state``, ``generated``: the
  target's own package database, kernel and boot loader, machine state, the runtime state
  daemons regenerate when they start (locks, pid files, seeds, Dovecot's index caches), and
  what package scripts generate.
- ``data`` (carried): the state trees, whole: /home, /root, /srv, /opt, /usr/local, /var/www,
  /var/mail, /var/spool, /var/opt, /var/local and each directory in /var/lib.
- ``changed`` (carried): package files whose content differs from what dpkg recorded,
  and changed conffiles.
- ``package``: files a package owns, unchanged: installing the package reproduces them.
- ``unowned`` (carried): everything else — what no package owns, wherever it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import translate


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    carried: bool = False
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleTotal:
    """How many entries (and of them regular files, and their bytes) one rule decided;
    ``examples`` names a few of them (the shallowest paths)."""

    rule: str
    reason: str
    carried: bool
    entries: int = 0
    files: int = 0
    bytes: int = 0
    examples: tuple[str, ...] = ()
    stage: str = "snapshot"  # snapshot: not read at all; plan: in the snapshot, not restored


STATE_TREES = ("/home", "/root", "/srv", "/opt", "/usr/local", "/var/www", "/var/mail",
               "/var/spool", "/var/opt", "/var/local")
VAR_LIB = "/var/lib"
_TREES = frozenset(STATE_TREES)
_TREE_PREFIXES = tuple(t + "/" for t in (*STATE_TREES, VAR_LIB))

INCLUDE = Rule("include", "evacuate.yml includes it", carried=True)
EXCLUDE = Rule("exclude", "evacuate.yml excludes it")
VIRTUAL = Rule("virtual", "mount point of a file system that is not a local disk (runtime, "
               "kernel or network): its content is not the server's data")
RUNTIME = Rule("runtime", "temporary files, cleaned at boot",
               patterns=("/tmp/*", "/var/tmp/systemd-private-*", "/var/lib/*/tmp",
                         "/etc/ssh/ssh_host_*_key.pub.tmp"))
FILESYSTEM = Rule("filesystem", "the file system checker's own directory",
                  patterns=("/lost+found", "*/lost+found"))
SWAP = Rule("swap", "swap space of the source (the target has its own)")
DATABASE = Rule("database", "a running database engine's data directory: its dumps carry it")
LOGS = Rule("logs", "logs: not carried unless --with-logs", patterns=("/var/log",
                                                                        "/var/lib/logrotate"))
LOGS_CARRIED = Rule("logs", "logs, carried (--with-logs)", carried=True,
                    patterns=LOGS.patterns)
CONTAINER_ENGINE_DATA = Rule("container-engine-data", "a named volume holding the data "
                             "directory of a database server that runs in a container: the "
                             "server's dumps (taken inside the container) carry it")
CONTAINER_VOLUMES = Rule("container-volumes", "a container engine's named volumes' data: "
                         "carried as files (the engine makes the volume again by its name on "
                         "the target and finds its data)", carried=True,
                         patterns=("/var/lib/containers/storage/volumes/*/_data",
                                   "/var/lib/docker/volumes/*/_data"))
CONTAINER_STORAGE = Rule("container-storage", "a container engine's storage (image layers, "
                         "containers' writable layers, its state database): copied under a "
                         "running engine it is not consistent, and the target's engine makes "
                         "its own; the named volumes' data moves (container-volumes)",
                         patterns=("/var/lib/containers", "/var/lib/docker"))
CACHES = Rule("caches", "caches, rebuilt on the target", patterns=("/var/cache",))
PACKAGE_MANAGER = Rule("package-manager", "the package manager's own database and alternatives: the "
                       "target's are made by installing the packages",
                       patterns=("/var/lib/dpkg", "/var/lib/apt", "/var/lib/aptitude",
                                 "/var/lib/ucf", "/etc/alternatives"))
BOOT = Rule("boot", "kernel, initramfs and boot loader: the target boots its own",
            patterns=("/boot", "/lib/modules", "/usr/lib/modules", "/var/lib/initramfs-tools"))
IDENTITY = Rule("identity", "the machine's own state (init system, machine id, DHCP "
                "leases): the target keeps its own",
                patterns=("/var/lib/systemd", "/var/lib/dbus/machine-id", "/var/lib/dhcp",
                          "/var/lib/dhclient", "/var/lib/NetworkManager", "/var/lib/cloud",
                          "/etc/machine-id"))
# Files a daemon owns and rewrites each time it starts (locks, pid files, its random seed,
# session caches) or rebuilds from the data it serves (Dovecot's index files and their
# logs, a cache of the Maildir it indexes: the messages, their flags in the file names and
# dovecot-uidlist's UIDs are carried and verified over IMAP). Carried, they would only be
# overwritten by the target's daemon; compared, they would differ by design. Where they
# are is what the daemons' own configuration says (the inventory's mail fact:
# ``MailServer.daemon_state``, given as ``Exclusion.daemon_state``); Dovecot's index files
# are known by their names, wherever the mailboxes are.
DAEMON_STATE = Rule("daemon-state", "runtime state a daemon owns and regenerates when it "
                    "starts (Postfix's master.lock, pid files, PRNG seed and TLS session "
                    "caches; Dovecot's instance list and its index files, rebuilt from the "
                    "Maildir)",
                    patterns=("*/dovecot.index", "*/dovecot.index.*", "*/dovecot.list.index",
                              "*/dovecot.list.index.*"))
GENERATED = Rule("generated", "generated by package scripts on install (bytecode, locale "
                 "archive, certificate links, caches of the dynamic linker)",
                 patterns=("*/__pycache__", "/usr/lib/locale/locale-archive",
                           "/etc/ssl/certs/ca-certificates.crt", "/etc/ld.so.cache", "/usr/share/info/dir", "/usr/share/info/dir.old",
                           "/etc/.java", "/etc/console-setup"))
DATA = Rule("data", "state trees (homes, /srv, /opt, /usr/local, web roots, mail, spools, "
            "/var/lib), carried whole", carried=True)
CHANGED = Rule("changed", "package files the admin changed (content differs from dpkg's "
               "record), and changed conffiles", carried=True)
PACKAGE = Rule("package", "owned by an installed package and unchanged: installing the "
               "package reproduces it")
PACKAGE_MODE = Rule("package-mode", "owned by a package, content unchanged, but changed "
                    "after its package installed it (its ctime: a chmod or chown): the "
                    "target keeps its package's copy and gets the source's mode and owner")
PARENTS = Rule("parents", "directories on the way to carried entries (their mode and owner)",
               carried=True)
CONFIG_DIRS = Rule("config-dirs", "directories of /etc (their mode, owner and existence: an "
                   "emptied sites-enabled stays empty)", carried=True)
UNOWNED = Rule("unowned", "no package owns it: what the admin wrote or installed by hand",
               carried=True)

PATTERN_RULES = (RUNTIME, FILESYSTEM)
LATER_RULES = (CACHES, PACKAGE_MANAGER, BOOT, IDENTITY, DAEMON_STATE, GENERATED)
ALL_RULES = (INCLUDE, EXCLUDE, VIRTUAL, RUNTIME, FILESYSTEM, SWAP, DATABASE,
             CONTAINER_ENGINE_DATA, CONTAINER_VOLUMES, CONTAINER_STORAGE, LOGS, CACHES,
             PACKAGE_MANAGER, BOOT, IDENTITY, DAEMON_STATE, GENERATED, DATA, CHANGED, UNOWNED, PARENTS,
             CONFIG_DIRS, PACKAGE_MODE, PACKAGE)
ALTERNATIVES = "/etc/alternatives/"
CERTS = "/etc/ssl/certs/"
CA_SHARED = ("/usr/share/ca-certificates/", "/usr/local/share/ca-certificates/")
_HASH_LINK = re.compile(r"[0-9a-f]{8}\.r?[0-9]+\Z")


def tree_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of ``patterns`` or anything under them."""
    patterns = [p for p in patterns if p]
    parts = [translate(p.rstrip("/") or "/") for p in patterns]
    parts += [translate(p.rstrip("/") + "/*") for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.DOTALL) if parts else None


@dataclass
class Exclusion:
    """What the source says about itself, for :meth:`classify`."""

    owned: set[str] | frozenset[str] = frozenset()
    changed: frozenset[str] = frozenset()
    database_dirs: tuple[str, ...] = ()
    engine_volumes: tuple[str, ...] = ()  # volumes of database servers in containers, dumped
    other_mounts: tuple[str, ...] = ()  # mount points of file systems that are not local disks
    swap_files: tuple[str, ...] = ()
    with_logs: bool = False
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    daemon_state: tuple[str, ...] = ()  # where daemons keep what they regenerate (their config's)
    engine_storage: tuple[str, ...] = ()  # a container engine's storage, as it says
    volume_dirs: tuple[str, ...] = ()  # its named volumes' data directories, as it says
    _combined: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # one regex for all pattern rules, in rule order: the first alternative that
        # matches names its rule (one match per path, not one per rule)
        ordered: list[tuple[Rule, Iterable[str]]] = [
            *((Rule(INCLUDE.name, f"evacuate.yml includes {p}", True), [p])
              for p in self.includes),
            *((Rule(EXCLUDE.name, f"evacuate.yml excludes {p}"), [p]) for p in self.excludes),
            *((r, r.patterns) for r in PATTERN_RULES),
            (DATABASE, [d.rstrip("/") for d in self.database_dirs]),
            (CONTAINER_ENGINE_DATA, [v.rstrip("/") for v in self.engine_volumes]),
            (CONTAINER_VOLUMES, volume_patterns(self.engine_storage, self.volume_dirs)),
            (CONTAINER_STORAGE, storage_patterns(self.engine_storage)),
            (LOGS_CARRIED if self.with_logs else LOGS, LOGS.patterns),
            *((r, self._patterns(r)) for r in LATER_RULES)]
        parts, self._by_group = [], {}
        for index, (rule, patterns) in enumerate(ordered):
            regex = tree_regex(patterns)
            if regex is not None:
                self._by_group[f"rule{index}"] = rule
                parts.append(f"(?P<rule{index}>{regex.pattern})")
        self._combined = re.compile("|".join(parts), re.DOTALL) if parts else None
        self._virtual = frozenset(m.rstrip("/") or "/" for m in self.other_mounts)
        self._swap = frozenset(self.swap_files)

    def classify(self, path: str, link_target: str | None = None, kind: str = "") -> Rule:
        """The rule that decides ``path`` (text as scan.encode_path gives it; a symlink's
        ``link_target`` too: update-alternatives' links point into /etc/alternatives)."""
        if path in self._virtual:
            return VIRTUAL
        if path in self._swap:
            return SWAP
        match = self._combined.match(path) if self._combined is not None else None
        if match is not None:
            return self._by_group[_outer_group(match)]
        if link_target is not None:
            if link_target.startswith(ALTERNATIVES):
                return PACKAGE_MANAGER
            if path.startswith(CERTS) and (link_target.startswith(CA_SHARED)
                                           or _HASH_LINK.match(path[len(CERTS):])):
                return GENERATED  # update-ca-certificates' links (an admin's own stays)
        if path.startswith(_TREE_PREFIXES) or path in _TREES:
            return DATA
        if path in self.changed:
            return CHANGED
        if path in self.owned:
            return CONFIG_DIRS if kind == "dir" and path.startswith("/etc/") else PACKAGE
        return UNOWNED

    def _patterns(self, rule: Rule) -> tuple[str, ...]:
        """A rule's patterns, with what the host says for those it keys on the host."""
        return (*rule.patterns, *self.daemon_state) if rule is DAEMON_STATE else rule.patterns

    def find_excludes(self) -> list[str]:
        """The rules' patterns as ``find -path`` prunes, for scans of the data trees (verify
        scans the target's trees with them, so both sides leave out the same)."""
        patterns = [*self.excludes, *(d.rstrip("/") for d in self.database_dirs),
                    *(v.rstrip("/") for v in self.engine_volumes)]
        for rule in (*PATTERN_RULES, *LATER_RULES):
            patterns += self._patterns(rule)
        if not self.with_logs:
            patterns += LOGS.patterns
        return list(dict.fromkeys(patterns))


def storage_patterns(storage: Iterable[str] = ()) -> tuple[str, ...]:
    """A container engine's storage: where the host's engine says it is, and the defaults."""
    return tuple(dict.fromkeys((*CONTAINER_STORAGE.patterns,
                                *(d.rstrip("/") for d in storage if d.startswith("/")))))


def volume_patterns(storage: Iterable[str] = (), volumes: Iterable[str] = ()) -> tuple[str, ...]:
    """The named volumes' data: their mount points as the engine says, ``volumes/*/_data``
    of its storage (a volume made after the inventory), and the defaults' own."""
    return tuple(dict.fromkeys((
        *CONTAINER_VOLUMES.patterns,
        *(f"{d.rstrip('/')}/volumes/*/_data" for d in storage if d.startswith("/")),
        *(v.rstrip("/") for v in volumes if v.startswith("/")))))


def engine_storage(storage: Iterable[str] = (), volumes: Iterable[str] = ()
                   ) -> Callable[[str], bool]:
    """Whether a path is a container engine's own storage (not a named volume's data), the
    storage and volumes where the source's engine says (see storage_patterns): the target's
    engine writes it (its database, layers, locks), so verify does not compare it; the
    directories above the volumes were carried for their mode and owner only."""
    storage = tuple(storage)
    in_storage = tree_regex(storage_patterns(storage))
    in_volume = tree_regex(volume_patterns(storage, volumes))

    def test(path: str) -> bool:
        return (in_storage is not None and in_storage.match(path) is not None
                and not (in_volume is not None and in_volume.match(path) is not None))
    return test


def _outer_group(match: re.Match[str]) -> str:
    """The rule group that matched (fnmatch's own named groups are inside it, so the rule
    group closes last: lastgroup names it)."""
    last = match.lastgroup
    if last is not None and last.startswith("rule"):
        return last
    return next(name for name, value in match.groupdict().items()
                if value is not None and name.startswith("rule"))


def state_tree(path: str) -> str | None:
    """The state tree ``path`` is in (each directory of /var/lib is a tree of its own)."""
    for tree in STATE_TREES:
        if path == tree or path.startswith(tree + "/"):
            return tree
    if path.startswith(VAR_LIB + "/"):
        return "/".join(path.split("/", 4)[:4])
    return None


def roots_of(carried: Iterable[str]) -> list[str]:
    """The trees the carried paths make up (what verify compares tree by tree), and /etc."""
    trees = {"/etc"}
    for path in carried:
        tree = state_tree(path)
        if tree is not None:
            trees.add(tree)
    return sorted(trees)


class Tally:
    """Counts per rule while a listing streams past."""

    MAX_EXAMPLES = 5

    def __init__(self) -> None:
        self._totals: dict[tuple[str, bool, str], list[int]] = {}
        self._rules: dict[tuple[str, bool, str], Rule] = {}
        self._examples: dict[tuple[str, bool, str], list[str]] = {}
        self._under: dict[tuple[str, bool, str], tuple[str, ...]] = {}  # examples + "/"

    def add(self, rule: Rule, path: str, kind: str, size: int) -> None:
        key = (rule.name, rule.carried, rule.reason)
        counts = self._totals.get(key)
        if counts is None:
            counts = self._totals[key] = [0, 0, 0]
            self._rules[key] = rule
            self._examples[key] = []
            self._under[key] = ()
        counts[0] += 1
        if kind == "file":
            counts[1] += 1
            counts[2] += size
        examples = self._examples[key]
        if len(examples) >= self.MAX_EXAMPLES and path.count("/") >= examples[-1].count("/"):
            return  # no shallower than the examples kept (the common case: cheap)
        if not path.startswith(self._under[key]):
            examples.append(path)
            examples.sort(key=lambda p: (p.count("/"), p))
            del examples[self.MAX_EXAMPLES:]
            self._under[key] = tuple(e.rstrip("/") + "/" for e in examples)

    def move(self, old: Rule, new: Rule, path: str, kind: str, size: int) -> None:
        """Count an entry ``old`` decided under ``new`` instead (its examples stay)."""
        counts = self._totals.get((old.name, old.carried, old.reason))
        if counts is not None:
            counts[0] -= 1
            if kind == "file":
                counts[1] -= 1
                counts[2] -= size
        self.add(new, path, kind, size)

    def totals(self, stage: str = "snapshot") -> tuple[RuleTotal, ...]:
        order = {r.name: i for i, r in enumerate(ALL_RULES)}
        return tuple(
            RuleTotal(rule.name, rule.reason, rule.carried, entries=self._totals[key][0],
                      files=self._totals[key][1], bytes=self._totals[key][2],
                      examples=tuple(sorted(self._examples[key])), stage=stage)
            for key, rule in sorted(((k, r) for k, r in self._rules.items()
                                     if self._totals[k][0] > 0),
                                    key=lambda kv: (not kv[0][1], order.get(kv[0][0], 99))))
