#!/usr/bin/env python3
"""Broker memory per idle connection: starts `samsa broker`, opens N idle connections, reads the
process's RSS before, with them and after they close.

    dotnet publish src/Samsa.Cli -c Release -o /tmp/samsa
    python3 bench/idle-connections.py /tmp/samsa/samsa.dll 24300 5000
"""
import socket
import subprocess
import sys
import tempfile
import time

dll, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
broker = subprocess.Popen(["dotnet", dll, "broker", "--listen", f"127.0.0.1:{port}", "--data-dir", tempfile.mkdtemp()],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for line in broker.stdout:
    if "listening" in line:
        break


def rss_mb():
    for line in open(f"/proc/{broker.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024


try:
    time.sleep(2)  # a measurement, not a synchronisation: let start-up allocations settle
    base = rss_mb()
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    time.sleep(5)
    held = rss_mb()
    for s in sockets:
        s.close()
    time.sleep(5)
    after = rss_mb()
    print(f"baseline {base} MB, with {n} idle connections {held} MB ({(held - base) * 1024 // n} KB each), after closing {after} MB")
finally:
    broker.kill()
