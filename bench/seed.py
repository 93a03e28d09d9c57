#!/usr/bin/env python3
"""Seed a ward SQLite store with N valid tokens, fast, for the benchmarks.

    bench/seed.py DB N [--user admin] [--sample FILE --sample-size K] [--ids FILE]
    bench/seed.py postgres://... N [...]     # a PostgreSQL store, through psql's \copy

Inserts rows straight into the `tokens` table of a database that `ward server`
has already created (schema migrated, admin user present). Stop the server
first, or seed a copy (SQLite); on PostgreSQL the rows are committed at once. Tokens have ward's format, `{prefix}_{kind}_{secret}{crc}`:
32 base62 characters from os.urandom, then the CRC32 (IEEE, zlib.crc32) of
everything before it in 6 base62 digits; the row stores SHA-256 of the token,
like the server does. `--sample` writes K random plaintext tokens (one a line)
for wrk; `--ids` writes every seeded token's id (for revoke benchmarks).
"""
import argparse
import base64
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import time
import zlib

B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# byte -> base62 digit, bytes >= 248 (= 4 * 62) dropped: every digit equally likely
TABLE = bytes(B62[b % 62] for b in range(248)) + bytes(8)
DROP = bytes(range(248, 256))
CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz")
KIND_LETTER = {"personal": "u", "pipeline": "p", "service": "s", "registry": "r"}


# every 3-digit base62 string, in value order: a 6-digit checksum is two look-ups
B62_3 = [a + b + c for a in B62.decode() for b in B62.decode() for c in B62.decode()]


def checksum(body):
    """CRC32 (IEEE) of `body` as exactly 6 base62 digits, most significant first."""
    hi, lo = divmod(zlib.crc32(body.encode()), 62 ** 3)
    return B62_3[hi] + B62_3[lo]


def secrets_stream():
    """Yields 32-character base62 secrets from the OS CSPRNG."""
    while True:
        chars = os.urandom(1 << 20).translate(TABLE, DROP).decode()
        for i in range(0, len(chars) - 31, 32):
            yield chars[i:i + 32]


def token_ids(millis):
    """Yields `tok_` + 26 lower-case Crockford base32 chars: 48 bits of ms, 80 random bits.

    With the 2 leading zero bits the ms fill exactly the first 10 characters and the
    random bits the last 16, so both parts are encoded separately (and in bulk)."""
    head = "tok_" + base64.b32encode(((millis & ((1 << 48) - 1)) << 14).to_bytes(8, "big")).decode()[:10].translate(CROCKFORD)
    while True:
        tails = base64.b32encode(os.urandom(10 * 65536)).decode().translate(CROCKFORD)
        for i in range(0, len(tails), 16):
            yield head + tails[i:i + 16]


# the columns seed.py fills, in this order
COLUMNS = ("id", "hash", "display", "name", "kind", "user_id", "scopes", "created_at")


class Sqlite:
    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)

    def columns(self):
        # cid, name, type, notnull, default, pk
        return [(r[1], bool(r[3]) and r[4] is None) for r in self.db.execute("PRAGMA table_info(tokens)")]

    def user_id(self, name):
        row = self.db.execute("SELECT id FROM users WHERE name = ? AND deleted_at IS NULL", (name,)).fetchone()
        return row[0] if row else None

    def begin(self):
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA cache_size = -1048576")  # up to 1 GiB: the indexes stay in memory
        self.db.execute("BEGIN IMMEDIATE")

    def insert(self, rows):
        self.db.executemany(f"INSERT INTO tokens ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows)

    def commit(self):
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


class Postgres:
    """Through the psql client (no Python driver needed): one \\copy in text format, one transaction."""

    def __init__(self, url):
        self.url = url

    def query(self, sql):
        out = subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines()]

    def columns(self):
        return [(name, nullable == "NO" and default == "") for name, nullable, default in self.query(
            "SELECT column_name, is_nullable, coalesce(column_default, '') FROM information_schema.columns "
            "WHERE table_name = 'tokens' AND table_schema = current_schema()")]

    def user_id(self, name):
        # bench user names are plain words; refuse anything else rather than quote it
        if not name.replace("-", "").replace("_", "").isalnum():
            sys.exit(f"seed.py: user name {name!r} is not a plain word")
        rows = self.query(f"SELECT id FROM users WHERE name = '{name}' AND deleted_at IS NULL")
        return rows[0][0] if rows else None

    def begin(self):
        self.copy = subprocess.Popen(["psql", self.url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                                      f"\\copy tokens ({', '.join(COLUMNS)}) FROM pstdin"],
                                     stdin=subprocess.PIPE, text=True)

    def insert(self, rows):
        # text format: tab-separated; bytea as \\x hex (the backslash escaped); no field
        # seed.py writes holds a tab, newline or backslash
        self.copy.stdin.write("".join(
            "\t".join("\\\\x" + v.hex() if isinstance(v, bytes) else str(v) for v in row) + "\n" for row in rows))

    def commit(self):
        self.copy.stdin.close()
        if self.copy.wait() != 0:
            sys.exit("seed.py: psql \\copy failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("n", type=int)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--kind", default="pipeline", choices=sorted(KIND_LETTER))
    ap.add_argument("--prefix", default="ward")
    ap.add_argument("--scopes", default='["ward:introspect"]')
    ap.add_argument("--sample")
    ap.add_argument("--sample-size", type=int, default=10000)
    ap.add_argument("--ids")
    a = ap.parse_args()

    store = (Postgres if a.db.startswith(("postgres://", "postgresql://")) else Sqlite)(a.db)
    # (name, required without a default): a NOT NULL column without a default we do
    # not know would make every insert fail; say so instead.
    cols = store.columns()
    unknown = [c for c, required in cols if c not in COLUMNS and required]
    if not cols or unknown:
        sys.exit(f"seed.py: tokens table missing or has unknown required columns {unknown}")
    user_id = store.user_id(a.user)
    if not user_id:
        sys.exit(f"seed.py: no live user named {a.user!r} in {a.db}")

    head = f"{a.prefix}_{KIND_LETTER[a.kind]}_"
    display_len = len(head) + 4
    secrets = secrets_stream()
    now = int(time.time() * 1000)
    ids_gen = token_ids(now)
    started = time.monotonic()
    sample, ids, batch = [], [], []
    keep = set(random.sample(range(a.n), min(a.sample_size, a.n))) if a.sample else set()
    store.begin()
    for i in range(a.n):
        body = head + next(secrets)
        token = body + checksum(body)
        tid = next(ids_gen)
        batch.append((tid, hashlib.sha256(token.encode()).digest(), token[:display_len],
                      f"bench-{i}", a.kind, user_id, a.scopes, now))
        if i in keep:
            sample.append(token)
        if a.ids:
            ids.append(tid)
        if len(batch) == 50000:
            store.insert(batch)
            batch.clear()
    store.insert(batch)
    store.commit()
    random.shuffle(sample)
    if a.sample:
        with open(a.sample, "w") as f:
            f.write("\n".join(sample) + "\n")
    if a.ids:
        with open(a.ids, "w") as f:
            f.write("\n".join(ids) + "\n")
    print(f"seeded {a.n} tokens for {a.user} in {time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
