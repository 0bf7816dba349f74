"""The node's policy cache, cache/policy.db (docs/node-protocol.md, "The cache
on the node"), read and written from Python for tests and benchmarks.

gate-node sync is the only writer on a real node; write_snapshot exists so a
benchmark can stand up a node cache without a gate-ca, and add_rows so one can
grow a real, synced cache to a large cluster without 100,000 argon2 sign-ups.
Both follow the documented layout; gate-principals refuses a file that does
not.
"""
import json
import os
import sqlite3

SCHEMA = """
PRAGMA application_id = 1195463749;
PRAGMA user_version = 1;
CREATE TABLE header (json TEXT NOT NULL);
CREATE TABLE users (name TEXT NOT NULL, json TEXT NOT NULL);
CREATE UNIQUE INDEX users_by_name ON users (name);
CREATE TABLE roles (name TEXT NOT NULL, json TEXT NOT NULL);
CREATE UNIQUE INDEX roles_by_name ON roles (name);
CREATE TABLE locks (user TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX locks_by_user ON locks (user);
CREATE TABLE revoked (serial INTEGER NOT NULL);
CREATE INDEX revoked_by_serial ON revoked (serial);
"""

_LISTS = (("users", "name"), ("roles", "name"), ("locks", "user"))


def _serial_key(serial):
    """A uint64 serial as the int64 with the same bits (how the file keeps it)."""
    serial = int(serial)
    return serial - (1 << 64) if serial >= (1 << 63) else serial


def read_snapshot(cache_dir):
    """The snapshot document (as gate-ca sends it) in cache_dir/policy.db."""
    db = sqlite3.connect(f"file:{cache_dir}/policy.db?mode=ro", uri=True)
    try:
        (header,), = db.execute("SELECT json FROM header").fetchall()
        doc = json.loads(header)
        for table, _ in _LISTS:
            doc[table] = [json.loads(j) for (j,) in
                          db.execute(f"SELECT json FROM {table} ORDER BY rowid")]
        doc["revoked_serials"] = [str(s & 0xFFFFFFFFFFFFFFFF) for (s,) in
                                  db.execute("SELECT serial FROM revoked ORDER BY rowid")]
        return doc
    finally:
        db.close()


def add_rows(db, users=(), roles=(), locks=(), revoked_serials=()):
    """Inserts entries (dicts shaped as in the snapshot document) into an
    open sqlite3 connection to a policy.db; the caller commits."""
    for table, key in _LISTS:
        entries = {"users": users, "roles": roles, "locks": locks}[table]
        col = "user" if table == "locks" else "name"
        db.executemany(f"INSERT INTO {table} ({col}, json) VALUES (?, ?)",
                       ((e[key], json.dumps(e, separators=(",", ":"))) for e in entries))
    db.executemany("INSERT INTO revoked (serial) VALUES (?)",
                   ((_serial_key(s),) for s in revoked_serials))


def write_snapshot(path, doc, mode=0o640):
    """Writes the snapshot document doc to path as a policy.db (with mode;
    the cache's is 0640), through a temp file and a rename like gate-node
    sync."""
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(SCHEMA)
        header = dict(doc, users=[], roles=[], locks=[], revoked_serials=[])
        db.execute("INSERT INTO header (json) VALUES (?)", (json.dumps(header),))
        add_rows(db, doc.get("users", []), doc.get("roles", []), doc.get("locks", []),
                 doc.get("revoked_serials", []))
        db.commit()
    finally:
        db.close()
    os.chmod(tmp, mode)
    os.replace(tmp, path)
