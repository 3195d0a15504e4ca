#!/usr/bin/env python3
"""A TCP proxy that cuts every connection after a random number of bytes: a
link that drops every few hundred kilobytes, for the bad-link tests and the
bad-link benchmark. Python 3 standard library only.

usage: cut_proxy.py --listen PORT --target HOST:PORT --cut MIN:MAX|none
                    [--seed N] [--stats FILE] [--verbose]

- Listens on 127.0.0.1:PORT only (PORT 0: any free port). Once bound it
  prints `listening PORT` (the real port) on stdout and flushes.
- Each accepted connection is paired with a new connection to the target and
  gets a budget drawn uniformly from [MIN, MAX] bytes (a random.Random seeded
  with N, drawn in the order connections are accepted). The budget counts the
  bytes forwarded in BOTH directions together. Bytes are forwarded both ways
  until the budget is used: a chunk that would cross it is forwarded only up
  to the budget (the first byte beyond it is never forwarded), and as soon as
  exactly `budget` bytes have been forwarded both sockets (client side and
  upstream side) are closed abruptly (SO_LINGER 0: an RST, nothing flushed).
  `--cut none`: never cut.
- A connection that one end closes (EOF or reset) is closed on the other side
  too (not counted as a cut).
- Counts connections, cuts, and bytes forwarded each direction (a byte is
  counted when it was handed to the kernel for the other side), and writes
  them as JSON to FILE atomically (temporary file + rename) when it starts,
  after every connection ends, and on SIGTERM/SIGINT, then exits 0.

stats JSON: {"connections", "active", "cuts", "closed_by_client",
"closed_by_target", "connect_failures", "bytes_client_to_target",
"bytes_target_to_client", "bytes_total", "cut": "MIN:MAX"|"none", "seed",
"port"}
"""
import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys

CHUNK = 65536


class Stats:
    def __init__(self, path, cut_text, seed):
        self.path = path
        self.d = {
            "connections": 0,
            "active": 0,
            "cuts": 0,
            "closed_by_client": 0,
            "closed_by_target": 0,
            "connect_failures": 0,
            "bytes_client_to_target": 0,
            "bytes_target_to_client": 0,
            "bytes_total": 0,
            "cut": cut_text,
            "seed": seed,
            "port": None,
        }

    def write(self):
        if not self.path:
            return
        self.d["bytes_total"] = self.d["bytes_client_to_target"] + self.d["bytes_target_to_client"]
        tmp = f"{self.path}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.d, f, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def abort(writer):
    """Closes a socket abruptly: RST, unsent bytes dropped."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class Connection:
    def __init__(self, proxy, client_reader, client_writer, budget, number):
        self.proxy = proxy
        self.cr, self.cw = client_reader, client_writer
        self.tr = self.tw = None
        self.budget = budget  # None: never cut
        self.used = 0
        self.number = number
        self.ended = None  # "cut" | "client" | "target" | "stopped"
        self.done = asyncio.Event()

    def end(self, how):
        if self.ended is not None:
            return
        self.ended = how
        for w in (self.cw, self.tw):
            if w is None:
                continue
            if how in ("cut", "stopped"):
                abort(w)
            else:
                try:
                    w.close()
                except Exception:
                    pass
        self.done.set()

    async def pump(self, reader, writer, key, source):
        stats = self.proxy.stats.d
        try:
            while self.ended is None:
                data = await reader.read(CHUNK)
                if not data:
                    self.end(source)
                    return
                if self.ended is not None:
                    return
                take = len(data)
                if self.budget is not None:
                    take = min(take, self.budget - self.used)
                # Reserved before any await: the other direction sees it.
                self.used += take
                if take > 0:
                    writer.write(data[:take])
                    stats[key] += take
                if self.budget is not None and self.used >= self.budget:
                    try:  # hand what was forwarded to the kernel, then cut
                        await asyncio.wait_for(writer.drain(), 5)
                    except Exception:
                        pass
                    self.end("cut")
                    return
                await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self.end(source)
        except asyncio.CancelledError:
            self.end("stopped")
            raise

    async def run(self):
        host, port = self.proxy.target
        try:
            self.tr, self.tw = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError) as e:
            self.proxy.stats.d["connect_failures"] += 1
            self.proxy.log(f"connection {self.number}: cannot reach the target: {e}")
            abort(self.cw)
            return "connect_failure"
        for w in (self.cw, self.tw):  # drain() waits until the kernel has it all
            w.transport.set_write_buffer_limits(high=0)
        tasks = [
            asyncio.ensure_future(self.pump(self.cr, self.tw, "bytes_client_to_target", "client")),
            asyncio.ensure_future(self.pump(self.tr, self.cw, "bytes_target_to_client", "target")),
        ]
        try:
            await self.done.wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.ended is None:
                self.end("stopped")
        return self.ended


class Proxy:
    def __init__(self, args):
        self.target = args.target
        self.cut = args.cut
        self.rng = random.Random(args.seed)
        self.stats = Stats(args.stats, args.cut_text, args.seed)
        self.verbose = args.verbose
        self.connections = set()

    def log(self, text):
        if self.verbose:
            print(f"cut_proxy: {text}", file=sys.stderr, flush=True)

    async def handle(self, reader, writer):
        s = self.stats.d
        s["connections"] += 1
        s["active"] += 1
        number = s["connections"]
        budget = None if self.cut is None else self.rng.randint(*self.cut)
        conn = Connection(self, reader, writer, budget, number)
        task = asyncio.current_task()
        self.connections.add(task)
        how = "stopped"
        try:
            how = await conn.run()
        except asyncio.CancelledError:
            how = "stopped"  # SIGTERM: end quietly (a cancelled handler is logged as an error)
        finally:
            self.connections.discard(task)
            s["active"] -= 1
            if how == "cut":
                s["cuts"] += 1
            elif how == "client":
                s["closed_by_client"] += 1
            elif how == "target":
                s["closed_by_target"] += 1
            self.log(f"connection {number}: budget {budget}, forwarded {conn.used}, ended: {how}")
            self.stats.write()


async def main_async(args):
    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.listen, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    proxy.stats.d["port"] = port
    proxy.stats.write()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening {port}", flush=True)
    async with server:
        await stop.wait()
        server.close()
        for task in list(proxy.connections):
            task.cancel()
        if proxy.connections:
            await asyncio.gather(*proxy.connections, return_exceptions=True)
    proxy.stats.write()
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1 (0: any)")
    p.add_argument("--target", required=True, help="HOST:PORT to forward to")
    p.add_argument("--cut", required=True, help="MIN:MAX bytes per connection, or none")
    p.add_argument("--seed", type=int, default=1, help="seed of the budgets (default 1)")
    p.add_argument("--stats", help="JSON file of the counters")
    p.add_argument("--verbose", action="store_true", help="one line per connection on stderr")
    a = p.parse_args(argv)
    host, sep, port = a.target.rpartition(":")
    if not sep or not host or not port.isdigit():
        p.error(f"--target {a.target}: want HOST:PORT")
    a.target = (host, int(port))
    a.cut_text = a.cut
    if a.cut == "none":
        a.cut = None
    else:
        lo, sep, hi = a.cut.partition(":")
        if not sep or not lo.isdigit() or not hi.isdigit() or not 0 < int(lo) <= int(hi):
            p.error(f"--cut {a.cut}: want MIN:MAX with 0 < MIN <= MAX bytes, or none")
        a.cut = (int(lo), int(hi))
    if not 0 <= a.listen <= 65535:
        p.error(f"--listen {a.listen}: not a port")
    return a


def main():
    args = parse_args(sys.argv[1:])
    try:
        return asyncio.run(main_async(args))
    except OSError as e:
        print(f"cut_proxy: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
