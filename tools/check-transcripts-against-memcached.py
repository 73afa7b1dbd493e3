#!/usr/bin/env python3
"""Runs transcripts against a real memcached and reports every reply that differs.

Usage: tools/check-transcripts-against-memcached.py [transcript.txt ...]
       (default: the protocol crate's and the executor's transcripts)

One reader for both transcript sets (docs/protocol.md, "Transcript tests"): `=` lines (the
parsed request, for the protocol crate) are ignored here. Starts `memcached -U 0 -p <port> -l
127.0.0.1` once per file (CAS uniques count from 1 in each file), sends each exchange on a new
connection, waits for `@sleep N` tags, and compares what comes back with the "<" lines.
Exchanges tagged @parse-only (parser-only cases) or @differs (where PPDB differs from memcached
1.6.18, docs/commands.md says how) are skipped. Needs `memcached` on PATH.
"""
import glob
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSCRIPT_DIRS = ("server/memcache/tests/transcripts", "server/ppdb/src/exec/transcripts")
ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}


def unescape(text):
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] != "\\":
            out += text[i].encode()
            i += 1
            continue
        e = text[i + 1]
        i += 2
        if e in ESCAPES:
            out += ESCAPES[e]
        elif e == "x":
            out.append(int(text[i:i + 2], 16))
            i += 2
        elif e == "{":
            end = text.index("}", i)
            count, piece = text[i:end].split("*", 1)
            out += piece.encode() * int(count)
            i = end + 1
        else:
            raise ValueError("unknown escape \\" + e)
    return bytes(out)


def read_transcript(path):
    exchanges, cur = [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f.read().split("\n"), 1):
            if not line.strip():
                if cur:
                    exchanges.append(cur)
                cur = None
                continue
            if line.startswith("#"):
                continue
            if cur is None:
                cur = {"line": number, "tags": [], "sleep": 0.0, "input": b"", "reply": [],
                       "close": False}
            marker, _, rest = line.partition(" ")
            if marker == ">":
                cur["input"] += unescape(rest) + b"\r\n"
            elif marker == ">>":
                cur["input"] += unescape(rest)
            elif marker == "<":
                cur["reply"].append(("exact", unescape(rest) + b"\r\n"))
            elif marker == "<<":
                cur["reply"].append(("exact", unescape(rest)))
            elif marker == "<~":
                cur["reply"].append(("prefix", unescape(rest)))
            elif marker == "!" and rest == "close":
                cur["close"] = True
            elif marker == "@sleep":
                cur["sleep"] = float(rest)
            elif marker.startswith("@"):
                cur["tags"].append(marker[1:])
            elif marker != "=":
                raise ValueError(f"{path}:{number}: cannot read {line!r}")
    if cur:
        exchanges.append(cur)
    return exchanges


def check(expected, actual):
    at = 0
    for kind, piece in expected:
        rest = actual[at:]
        if kind == "exact":
            if not rest.startswith(piece):
                return f"expected {piece[:200]!r}, got {rest[:len(piece) + 40][:240]!r}"
            at += len(piece)
        else:
            end = rest.find(b"\r\n")
            if end < 0 or not rest[:end].startswith(piece):
                return f"expected a line starting {piece!r}, got {rest[:80]!r}"
            at += end + 2
    if at != len(actual):
        return f"unexpected extra reply {actual[at:][:200]!r}"
    return None


def exchange(port, data, wait):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(wait)
    out, closed = b"", False
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(paths):
    failures = checked = 0
    for path in paths:
        port = free_port()
        server = subprocess.Popen(["memcached", "-U", "0", "-p", str(port), "-l", "127.0.0.1",
                                   "-u", "root"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            for ex in read_transcript(path):
                time.sleep(ex["sleep"])
                if "parse-only" in ex["tags"] or "differs" in ex["tags"]:
                    continue
                wait = 1.0 if len(ex["input"]) > 100000 else 0.3
                out, closed = exchange(port, ex["input"], wait)
                checked += 1
                problem = check(ex["reply"], out)
                if problem is None and closed != ex["close"]:
                    problem = f"closed {closed}, expected {ex['close']}"
                if problem:
                    failures += 1
                    print(f"{os.path.relpath(path)}:{ex['line']}: {problem}")
        finally:
            server.terminate()
            server.wait()
    print(f"{checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    default = [f for d in TRANSCRIPT_DIRS for f in sorted(glob.glob(os.path.join(ROOT, d, "*.txt")))]
    sys.exit(main(sys.argv[1:] or default))
