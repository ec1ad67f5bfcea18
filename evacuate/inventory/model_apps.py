"""Inventory model, applications: databases, web servers, certificates, firewall, sysctl,
and the directories that hold data (re-exported by evacuate.inventory.model)."""

from __future__ import annotations

from dataclasses import dataclass

# --- applications ----------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    name: str
    size_bytes: int | None = None
    # its owner as the catalog says (PostgreSQL's pg_database.datdba); a SQLite database
    # file's user:group:mode
    owner: str = ""


@dataclass(frozen=True)
class DatabaseServer:
    """A database engine instance (postgresql cluster, mysql/mariadb server).
    ``roles`` are names only ('user'@'host' for mysql), never secrets. ``cluster``: the
    instance's name (a PostgreSQL cluster; a MariaDB/MySQL multi-instance unit's, "" for
    the main server); ``socket``: the unix socket it listens on, where the engine reads it.
    A server that runs in a container (``container``: its name, ``container_engine``: the
    CLI that runs it, podman or docker) is reached through that CLI's ``exec``; its
    ``data_dir`` is then the host's path of the named volume that holds its data directory."""

    engine: str  # postgresql | mysql | mariadb | redis | sqlite
    version: str = ""
    data_dir: str = ""
    port: int | None = None
    cluster: str = ""
    running: bool = True
    databases: tuple[Database, ...] = ()
    roles: tuple[str, ...] = ()
    socket: str = ""
    container: str = ""
    container_engine: str = ""


@dataclass(frozen=True)
class VHost:
    server: str  # nginx | apache
    file: str
    server_names: tuple[str, ...] = ()
    listen: tuple[str, ...] = ()
    docroot: str = ""
    proxy_targets: tuple[str, ...] = ()
    tls_cert: str = ""
    tls_key_path: str = ""


@dataclass(frozen=True)
class Certificate:
    path: str
    subject: str = ""
    issuer: str = ""
    sans: tuple[str, ...] = ()
    not_before: str = ""  # ISO 8601 UTC
    not_after: str = ""


@dataclass(frozen=True)
class Firewall:
    """The live rules as the tools print them (replayable text)."""

    nftables: str = ""
    iptables: str = ""
    ip6tables: str = ""


@dataclass(frozen=True)
class SysctlSetting:
    key: str
    value: str
    file: str
    current: str | None = None


@dataclass(frozen=True)
class DataCandidate:
    """A directory whose content must move: its size and number of files."""

    path: str
    kind: str  # home | www | srv | opt | database | containers | other
    size_bytes: int | None = None
    file_count: int | None = None


@dataclass(frozen=True)
class Maildir:
    """One Maildir folder: ``mailbox`` is ``INBOX`` for a Maildir's root and the folder's
    name for a Maildir++ subfolder (``.Sent`` → ``Sent``, decoded from IMAP's UTF-7);
    ``root`` is the Maildir it belongs to; ``messages`` counts the files in cur/ and new/."""

    path: str
    owner: str
    mailbox: str
    root: str
    messages: int


@dataclass(frozen=True)
class QueuedMessage:
    """A message in Postfix's queue by what it is, not by its queue id (which follows its
    file's inode): the queue it waits in, its envelope, its size and the sha256 of its
    header and body."""

    queue: str
    sender: str
    recipients: tuple[str, ...]
    size: int
    sha256: str


@dataclass(frozen=True)
class MailServer:
    """Mailboxes on disk and what the MTA answers: Postfix's ``smtp_banner`` (expanded,
    without the 220 code) and ``queued`` messages in its queue (None: no Postfix);
    ``chroot_copies``: the files Postfix's start copies into its queue directory's chroot
    from the host's own (``<queue_directory>/etc/hosts`` from ``/etc/hosts``);
    ``queue_directory``: Postfix's, as postconf says ("" without Postfix); ``messages``:
    the queued messages as showq lists them (None: not listed)."""

    maildirs: tuple[Maildir, ...] = ()
    smtp_banner: str = ""
    queued: int | None = None
    chroot_copies: tuple[str, ...] = ()
    queue_directory: str = ""
    messages: tuple[QueuedMessage, ...] | None = None
    postfix_data_directory: str = ""  # postconf's data_directory ("" without Postfix)
    dovecot_state_dir: str = ""  # doveconf's state_dir ("" without Dovecot)

    # Postfix's queues whose files are named by the message's queue id (derived from the
    # file's inode: a restored message gets a new name) and the logs kept per queue id
    ID_NAMED_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt",
                       "saved", "defer", "bounce", "trace")

    def daemon_state(self) -> tuple[str, ...]:
        """The runtime state Postfix and Dovecot regenerate when they start, where their own
        configuration says they keep it: Postfix's master.lock, PRNG seed and TLS session
        caches in its data_directory, its pid files in its queue directory, Dovecot's
        instance list in its state_dir (patterns for the exclusion rules)."""
        found: list[str] = []
        if self.postfix_data_directory.startswith("/"):
            data = self.postfix_data_directory.rstrip("/")
            found += [f"{data}/master.lock", f"{data}/prng_exch", f"{data}/*_scache.db"]
        if self.queue_directory.startswith("/") and self.queued is not None:
            found.append(f"{self.queue_directory.rstrip('/')}/pid")
        if self.dovecot_state_dir.startswith("/"):
            found.append(f"{self.dovecot_state_dir.rstrip('/')}/instances")
        return tuple(found)

    def queue_files(self) -> tuple[str, ...]:
        """The directories of Postfix's queue files: they are verified as messages (the
        ``mail:postfix queue`` check), not by their names."""
        if self.queued is None or not self.queue_directory.startswith("/"):
            return ()
        spool = self.queue_directory.rstrip("/")
        return tuple(f"{spool}/{q}" for q in self.ID_NAMED_QUEUES)
