#!/usr/bin/env python3
"""The cutting proxy itself (tests/net/cut_proxy.py), against small servers
on 127.0.0.1: the budget counts both directions and is forwarded exactly,
budgets are drawn in [MIN, MAX] and repeat with the seed, `--cut none`
forwards everything, an unreachable target is counted, port 0 works, the
stats file is JSON written atomically, and SIGTERM ends it with exit 0.

usage: cut_proxy_test.py CUT_PROXY
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile

PROXY = None
failures = []
passed = 0


def check(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
        print(f"ok   {what}", flush=True)
    else:
        failures.append(what)
        print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)


class Proxy:
    def __init__(self, target_port, cut, seed, stats):
        self.stats = stats
        self.p = subprocess.Popen(
            [sys.executable, PROXY, "--listen", "0", "--target", f"127.0.0.1:{target_port}",
             "--cut", cut, "--seed", str(seed), "--stats", stats],
            stdout=subprocess.PIPE, text=True)
        self.line = self.p.stdout.readline().strip()
        self.port = int(self.line.split()[1]) if self.line.startswith("listening ") else None

    def counters(self):
        with open(self.stats, encoding="utf-8") as f:
            return json.load(f)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return "hung"
        finally:
            self.p.stdout.close()


async def read_all(reader, timeout=10):
    """Bytes read until EOF or reset; and how it ended."""
    got = bytearray()
    try:
        while True:
            d = await asyncio.wait_for(reader.read(65536), timeout)
            if not d:
                return bytes(got), "eof"
            got += d
    except ConnectionResetError:
        return bytes(got), "reset"
    except asyncio.TimeoutError:
        return bytes(got), "timeout"


async def echo(reader, writer):
    try:
        while True:
            d = await reader.read(65536)
            if not d:
                break
            writer.write(d)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def firehose(reader, writer):
    try:
        while True:
            writer.write(b"z" * 4096)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def settle(proxy, want_connections):
    for _ in range(200):  # the file is written after each connection ends
        c = proxy.counters()
        if c["connections"] == want_connections and c["active"] == 0:
            return c
        await asyncio.sleep(0.02)
    return proxy.counters()


async def both_directions_share_the_budget(tmp):
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    proxy = Proxy(port, "1000:1000", 1, os.path.join(tmp, "a.json"))
    check(proxy.port not in (None, 0) and proxy.port != port,
          "port 0: prints `listening PORT` with the real port", proxy.line)
    r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
    w.write(b"x" * 600)
    await w.drain()
    got, how = await read_all(r)
    check(got == b"x" * 400 and how == "reset",
          "600 bytes out and their echo: 400 come back, then a reset (budget 1000 in all)",
          f"{len(got)} bytes, {how}")
    w.close()
    c = await settle(proxy, 1)
    check((c["connections"], c["cuts"], c["bytes_client_to_target"],
           c["bytes_target_to_client"], c["bytes_total"]) == (1, 1, 600, 400, 1000),
          "stats: 1 connection, 1 cut, 600 + 400 bytes", json.dumps(c))
    rc = proxy.stop()
    check(rc == 0, "SIGTERM: exit 0", f"{rc}")
    srv.close()


async def budgets_in_range_and_seeded(tmp):
    srv = await asyncio.start_server(firehose, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    runs = []
    for k in range(2):
        proxy = Proxy(port, "1000:50000", 42, os.path.join(tmp, f"b{k}.json"))
        sizes = []
        for _ in range(8):
            r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
            got, how = await read_all(r)
            sizes.append((len(got), how))
            w.close()
        c = await settle(proxy, 8)
        proxy.stop()
        runs.append((sizes, c))
    sizes, c = runs[0]
    check(all(1000 <= n <= 50000 and how == "reset" for n, how in sizes),
          "every connection of a firehose is cut after 1000..50000 bytes", f"{sizes}")
    check(len({n for n, _ in sizes}) > 1, "budgets differ between connections", f"{sizes}")
    check(c["cuts"] == 8 and c["bytes_target_to_client"] == sum(n for n, _ in sizes),
          "stats: 8 cuts, the bytes the clients received", f"{json.dumps(c)} vs {sizes}")
    check(runs[1][0] == sizes, "the same seed draws the same budgets", f"{runs[1][0]}")
    srv.close()


async def cut_none_forwards_everything(tmp):
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    proxy = Proxy(port, "none", 1, os.path.join(tmp, "c.json"))
    r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
    blob = os.urandom(3 * 1024 * 1024)

    async def send():
        w.write(blob)
        await w.drain()

    sender = asyncio.ensure_future(send())
    got = bytearray()
    while len(got) < len(blob):
        d = await asyncio.wait_for(r.read(65536), 10)
        if not d:
            break
        got += d
    await sender
    check(bytes(got) == blob, "--cut none: 3 MiB echoed intact", f"{len(got)} bytes")
    w.close()
    await w.wait_closed()
    c = await settle(proxy, 1)
    check((c["cuts"], c["closed_by_client"], c["bytes_total"]) == (0, 1, 2 * len(blob)),
          "stats: no cut, closed by the client, 6 MiB forwarded", json.dumps(c))
    # SIGTERM with a connection open: counted, written, exit 0.
    r2, w2 = await asyncio.open_connection("127.0.0.1", proxy.port)
    w2.write(b"ping")
    await w2.drain()
    await asyncio.wait_for(r2.readexactly(4), 10)
    rc = proxy.stop()
    c = proxy.counters()
    check(rc == 0 and c["connections"] == 2 and c["bytes_total"] == 2 * len(blob) + 8,
          "SIGTERM with a connection open: exit 0, final stats written",
          f"exit {rc}, {json.dumps(c)}")
    w2.close()
    srv.close()


async def unreachable_target(tmp):
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()  # nothing listens there now
    proxy = Proxy(port, "100:200", 1, os.path.join(tmp, "d.json"))
    r, w = await asyncio.open_connection("127.0.0.1", proxy.port)
    got, how = await read_all(r)
    check(got == b"" and how in ("eof", "reset"), "an unreachable target: the client is closed",
          how)
    c = await settle(proxy, 1)
    check(c["connect_failures"] == 1 and c["cuts"] == 0, "stats: 1 connect failure",
          json.dumps(c))
    proxy.stop()
    w.close()


async def main_async():
    with tempfile.TemporaryDirectory(prefix="tuphap-cut-proxy-") as tmp:
        for t in (both_directions_share_the_budget, budgets_in_range_and_seeded,
                  cut_none_forwards_everything, unreachable_target):
            await t(tmp)
        leftovers = [f for f in os.listdir(tmp) if ".tmp." in f]
        check(not leftovers, "no temporary stats file left behind", f"{leftovers}")


def main():
    global PROXY
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    PROXY = sys.argv[1]
    asyncio.run(main_async())
    print(f"{passed} passed, {len(failures)} failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
