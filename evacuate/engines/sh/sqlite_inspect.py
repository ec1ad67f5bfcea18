"""What verify compares in one SQLite database, nothing written (run by python3 on the host:
``python3 -c "$program" counts|objects PATH``). counts: ``table<TAB>rows`` per table;
objects: ``content <table><TAB>md5`` (the md5 of its rows' sorted md5s, each row written as
Python writes a tuple of its values, so the order rows are stored in does not count),
``relation|index|view|trigger <name><TAB>md5`` of the statement that made it, ``pragma
user_version|application_id<TAB>value`` (applications keep their schema version there) and
``file owner<TAB>user:group:mode``. Virtual tables are left out (their shadow tables hold
their rows); a name is written with tabs and newlines as spaces. Opened read-only when a
-wal or -shm is beside it (in use), else read-write, so that SQLite removes the -wal and
-shm its reading makes when it closes."""

import grp
import hashlib
import os
import pwd
import sqlite3
import sys
import urllib.parse


def name_of(raw: "bytes | str") -> str:
    text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    return text.replace("\t", " ").replace("\n", " ")


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def main(mode: str, path: str) -> None:
    in_use = os.path.exists(path + "-wal") or os.path.exists(path + "-shm")
    con = sqlite3.connect("file:" + urllib.parse.quote(path) + "?mode=" + ("ro" if in_use
                                                                            else "rw"), uri=True)
    con.text_factory = bytes
    schema = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    objects = [(kind.decode(), name.decode("utf-8", "surrogateescape"), sql)
               for kind, name, sql in schema.fetchall()]
    tables = [name for kind, name, sql in objects
              if kind == "table" and not (sql or b"").upper().startswith(b"CREATE VIRTUAL")]
    out = []
    if mode == "counts":
        for name in tables:
            rows = con.execute("SELECT count(*) FROM " + quoted(name)).fetchone()[0]
            out.append(f"{name_of(name)}\t{rows}")
    else:
        for name in tables:
            digests = sorted(hashlib.md5(repr(tuple(row)).encode()).hexdigest()
                             for row in con.execute("SELECT * FROM " + quoted(name)))
            whole = hashlib.md5("".join(digests).encode()).hexdigest()
            out.append(f"content {name_of(name)}\t{whole}")
        for kind, name, sql in objects:
            kind = "relation" if kind == "table" else kind
            made = hashlib.md5(sql).hexdigest() if sql is not None else "automatic"
            out.append(f"{kind} {name_of(name)}\t{made}")
        for pragma in ("user_version", "application_id"):
            value = con.execute("PRAGMA " + pragma).fetchone()[0]
            out.append(f"pragma {pragma}\t{value}")
        info = os.stat(path)
        user = pwd.getpwuid(info.st_uid).pw_name
        group = grp.getgrgid(info.st_gid).gr_name
        out.append(f"file owner\t{user}:{group}:{info.st_mode & 0o7777:o}")
    con.close()
    sys.stdout.write("".join(line + "\n" for line in out))


main(sys.argv[1], sys.argv[2])
