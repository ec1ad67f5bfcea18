"""The secrets on lab-source, as they are there: what must never show up in an inventory,
a plan, a rendered project (outside the vault), a log or an artifact.

The seed's database passwords exist on the source only as hashes (a SCRAM verifier in
pg_authid, a mysql_native_password hash in mysql.user): those hashes are what really moves
(``pg_dumpall --globals-only``, ``SHOW CREATE USER``), so they are read from the running
source at test time and searched for, not the plaintext the seed typed once."""

from __future__ import annotations

from evacuate.transport import Transport

# Plain text that is on the source as it is: in /opt/notes/config.ini (an API token, a
# password in a database URL), the shadow hash's salt in /etc/shadow, and the markers of the
# private keys (TLS key, host keys).
IN_FILES = ("canary-token-7c0ffee5eed", "canary-dburl-3d5a9e61", "$6$canarysalt",
            "BEGIN OPENSSH PRIVATE KEY", "BEGIN PRIVATE KEY")

PG_HASHES = ("runuser -u postgres -- psql -XAt -c \"select rolpassword from pg_authid "
             "where rolpassword is not null\"")
# 'invalid' is no hash: MariaDB's mark of an account that cannot log in with a password
# (root's unix_socket login, mariadb.sys); as a canary it would match any ".invalid" name
MARIADB_HASHES = ("mariadb -N -B -e \"select authentication_string from mysql.user "
                  "where authentication_string not in ('', 'invalid')\"")


def source_canaries(source: Transport) -> tuple[str, ...]:
    """The canaries of the source behind ``source`` (root): the plain ones in its files and
    the password hashes its database servers hold now."""
    pg = source.run(PG_HASHES, timeout=60, check=True).text.split()
    mariadb = source.run(MARIADB_HASHES, timeout=60, check=True).text.split()
    assert any(h.startswith("SCRAM-SHA-256$") for h in pg), pg  # shop's password
    assert any(h.startswith("*") and len(h) == 41 for h in mariadb), mariadb  # blog's
    config = source.run("cat /opt/notes/config.ini /etc/shadow", timeout=60, check=True).text
    assert all(c in config for c in IN_FILES[:3]), "the seed's canaries are not on the source"
    return (*IN_FILES, *pg, *mariadb)
