#!/usr/bin/env python3
"""Open-loop load at a steady rate over loopback HTTP/1.1 keep-alive connections.

Request i is due at start + i/rate, whatever happened before; it goes out on the first idle connection
(at most MAX_CONNECTIONS are opened), and its latency is measured from the time it was *due*, so a
stalled server shows up in the figures (no coordinated omission) instead of slowing the load down.

    steady_load.py HOST PORT RATE SECONDS EVENTS_FILE [MAX_CONNECTIONS]

EVENTS_FILE has one request per line: `<Stripe-Signature>\t<body>` (bench-bridge.sh writes it).
Prints one line: RESULT requests=… rps=… p50_ms=… p99_ms=… max_ms=… errors=… non2xx=…
"""
import asyncio
import sys
import time


async def send(conn, payload):
    reader, writer = conn
    writer.write(payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def main():
    host, port, rate, seconds, events_file = sys.argv[1:6]
    port, rate, seconds = int(port), float(rate), float(seconds)
    max_conns = int(sys.argv[6]) if len(sys.argv) > 6 else 64
    requests = []
    with open(events_file) as f:
        for line in f:
            sig, body = line.rstrip("\n").split("\t", 1)
            body = body.encode()
            requests.append(
                f"POST /api/webhooks/stripe HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nStripe-Signature: {sig}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
    total = int(rate * seconds)
    if total > len(requests):
        sys.exit(f"need {total} events, have {len(requests)}")
    idle = asyncio.Queue()
    opened = 0
    latencies, errors, non2xx = [], 0, 0

    async def one(i, due):
        nonlocal opened, errors, non2xx
        if idle.empty() and opened < max_conns:
            opened += 1
            idle.put_nowait(await asyncio.open_connection(host, port))
        conn = await idle.get()
        try:
            status = await send(conn, requests[i])
            latencies.append(time.perf_counter() - due)
            if not 200 <= status < 300:
                non2xx += 1
            idle.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            opened -= 1

    start = time.perf_counter() + 0.2
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000
    print(
        f"RESULT requests={len(latencies)} duration_us={int(elapsed * 1e6)} rps={len(latencies) / elapsed:.0f} "
        f"p50_ms={pct(50):.2f} p99_ms={pct(99):.2f} max_ms={latencies[-1] * 1000:.2f} "
        f"errors={errors} non2xx={non2xx} connections={opened}"
    )


asyncio.run(main())
