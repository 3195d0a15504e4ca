#!/usr/bin/env python3
"""What SQLite alone costs a hub for the rows of its records (benchmark).

A hub that has ingested records (`load_bench --keep-hub DIR`) holds, per
record, a `changes` row (the envelope), a `records` row (the materialised
state), its `person_index` rows, its `recon_leaves` leaf and its
`record_search` (FTS5) entry. This replays exactly those rows, in the order
the hub wrote them, into a fresh database with the hub's schema and the
serving hub's settings (16 KiB pages, WAL, synchronous=FULL, a 64 MiB page
cache, checkpoints at 4,096 pages), as INSERT ... SELECT statements in
transactions of N records each: no decoding, no signature, no decryption,
no CRDT, no content check, no per-row statement. It is the floor under the
hub's ingest on this machine with this schema: no amount of work in
tuphap's own code makes the hub ingest faster than this.

What it leaves out: the rows a hub writes per flush or per session
rather than per record (stats_totals, scope_counts, feeds,
person_conflicts, peers, refusals) and foreign-key checks. Checkpoints:
with --checkpoint inline (the default) SQLite checkpoints inside the
commit that crosses 4,096 pages, as a hub without its checkpoint thread
does; with --checkpoint thread a second connection checkpoints (PASSIVE)
every 100 ms on a thread of its own, as a serving hub's checkpoint thread
does. What it adds: reading the rows from the source database, from the
page cache (it is read once first); a pass that only reads them (into
Python objects: an overestimate) is timed and printed, so SQLite's own
work lies between the replay's time and that less the read pass. The
source's recon_leaves get an index by record so the replay can find them
(on a copy made with SQLite's backup, so a WAL is included; the hub is not
touched). The row counts of the five replayed tables are compared with the
source's after each replay. The source's changes are split into as many
transactions as its records, in id order, so a hub with more changes
than records (amendments, trust) replays whole.

usage: sqlite_floor_bench.py --hub DIR [--per-commit N,...] [--runs R]
                             [--page-size BYTES] [--checkpoint inline|thread]
"""
import argparse
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time


def settings(page_size, checkpoint):
    return [
        f"PRAGMA page_size={page_size}", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "PRAGMA cache_size=-65536",
        "PRAGMA wal_autocheckpoint=" + ("4096" if checkpoint == "inline" else "0")
    ]


# Per table: where the rows of records [lo, hi] (changes [clo, chi]) go,
# and how they are read from the source.
ROWS = [
    ("changes", "SELECT * FROM src.changes WHERE id BETWEEN :clo AND :chi"),
    ("records", "SELECT * FROM src.records WHERE id BETWEEN :lo AND :hi"),
    ("person_index", "SELECT * FROM src.person_index WHERE record BETWEEN :lo AND :hi"),
    ("recon_leaves", "SELECT l.* FROM src.records r CROSS JOIN src.recon_leaves l"
     " INDEXED BY rl_by_record ON l.record_id = r.record_id AND l.scope = r.scope"
     " WHERE r.id BETWEEN :lo AND :hi"),
    ("record_search(rowid, text, display)", "SELECT rowid, text, display FROM src.record_search"
     " WHERE rowid BETWEEN :lo AND :hi"),
]


def replay(src, target, per_commit, read_only=False, page_size=16384, checkpoint="inline"):
    con = sqlite3.connect(src)
    schema = [
        r[0] for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'record_search_%'"
            " AND name NOT LIKE 'sqlite_%' AND name <> 'rl_by_record' ORDER BY type = 'index', rowid")
    ]
    ids = [r[0] for r in con.execute("SELECT id FROM records ORDER BY id")]
    change_ids = [r[0] for r in con.execute("SELECT id FROM changes ORDER BY id")]
    con.close()
    chunks = (len(ids) + per_commit - 1) // per_commit
    per_chunk = (len(change_ids) + chunks - 1) // max(1, chunks)
    db = sqlite3.connect(":memory:" if read_only else target, isolation_level=None)
    if not read_only:
        for s in settings(page_size, checkpoint):
            db.execute(s).fetchall()
        for s in schema:
            db.execute(s)
    db.execute("ATTACH ? AS src", (src,))
    stop = threading.Event()
    checkpointer = None
    if not read_only and checkpoint == "thread":
        def run():
            own = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            while not stop.wait(0.1):
                own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            own.close()
        checkpointer = threading.Thread(target=run)
        checkpointer.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    for k, i in enumerate(range(0, len(ids), per_commit)):
        lo, hi = ids[i], ids[min(i + per_commit, len(ids)) - 1]
        own_changes = change_ids[k * per_chunk:(k + 1) * per_chunk]
        clo, chi = (own_changes[0], own_changes[-1]) if own_changes else (1, 0)
        if k == chunks - 1:
            chi = change_ids[-1] if change_ids else 0
        args = {"lo": lo, "hi": hi, "clo": clo, "chi": chi}
        if read_only:
            for _, select in ROWS:
                db.execute(select, args).fetchall()
            continue
        db.execute("BEGIN")
        for into, select in ROWS:
            db.execute(f"INSERT INTO {into} {select}", args)
        db.execute("COMMIT")
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    if checkpointer:
        checkpointer.join()
    if not read_only:
        for into, _ in ROWS:
            table = into.split("(")[0]
            ours = db.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
            theirs = db.execute(f"SELECT count(*) FROM src.{table}").fetchone()[0]
            if ours != theirs:
                sys.exit(f"sqlite_floor_bench: {table} has {ours} rows, the hub {theirs}")
    db.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return len(ids), wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hub", required=True, help="a hub's data directory (load_bench --keep-hub)")
    ap.add_argument("--per-commit", default="260,1000")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--page-size", type=int, default=16384)
    ap.add_argument("--checkpoint", choices=["inline", "thread"], default="inline")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sqlite-floor-", dir=os.environ.get("TUPHAP_BENCH_DIR"))
    try:
        src = os.path.join(work, "src.db")
        hub = sqlite3.connect(os.path.join(args.hub, "tuphap.db"))
        copy = sqlite3.connect(src)
        hub.backup(copy)  # with what the hub's WAL holds
        copy.close()
        hub.close()
        con = sqlite3.connect(src)
        con.execute("CREATE INDEX rl_by_record ON recon_leaves(record_id, scope)")
        con.commit()
        con.close()
        with open(src, "rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass
        print(f"sqlite_floor_bench: SQLite {sqlite3.sqlite_version}, rows of {args.hub},"
              f" {args.page_size}-byte pages, checkpoints {args.checkpoint}")
        for run in range(args.runs):
            for n in [int(x) for x in args.per_commit.split(",") if x.strip()]:
                if n < 1:
                    sys.exit("sqlite_floor_bench: --per-commit takes numbers of 1 or more")
                target = os.path.join(work, "t.db")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(target + suffix):
                        os.remove(target + suffix)
                records, wall, cpu = replay(src, target, n, False, args.page_size,
                                            args.checkpoint)
                _, read_wall, read_cpu = replay(src, None, n, read_only=True)
                print(f"sqlite_floor_bench run {run + 1}: {records} records' rows in transactions of"
                      f" {n}: {wall:.1f} s ({records / wall:,.0f} records/s), CPU {cpu:.1f} s;"
                      f" reading them alone {read_wall:.1f} s, CPU {read_cpu:.1f} s")
                sys.stdout.flush()
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
