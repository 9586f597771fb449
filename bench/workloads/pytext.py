"""pytext.py - Python text processing: JSON and regular expressions.

Each round makes -n log records (dicts with a timestamp, host, IP address,
user, e-mail address, HTTP request, status, size and a free-text message,
all drawn from the seed), serialises each to a JSON line, joins the lines
into one text, then reads the text back: json.loads of every line, regular
expressions over the raw text (IPv4 addresses, e-mail addresses, request
paths, key=value pairs), re.sub to mask the addresses, word counts of the
messages, and a per-status summary re-serialised as JSON. Everything made
in a round is dropped before the next one: many small objects (CPython's
arenas, mmap/munmap) and large strings and lists (malloc). After every third
round it sleeps --idle-ms so decay-based purging runs.

Output, one line on stdout (records, matches and checksum are exact for a
seed):
  pytext: rounds=R records=N bytes=B seconds=S records_per_sec=N
          matches=M checksum=C
"""
import json
import random
import re
import sys
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import wl  # noqa: E402  (after the line above)

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
         "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
         "xray yankee zulu memory page table arena extent segment purge decay release "
         "kernel request timeout retry cache miss hit session token user").split()
PATHS = ("/api/v1/items", "/api/v1/users", "/static/app.js", "/login", "/search",
         "/api/v2/orders", "/health", "/metrics")
METHODS = ("GET", "GET", "GET", "POST", "PUT", "DELETE")
STATUS = (200, 200, 200, 201, 204, 301, 304, 400, 403, 404, 500, 503)

IP_RE = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
MAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
PATH_RE = re.compile(r'"(GET|POST|PUT|DELETE) (/[^ "?]*)(?:\?([^ "]*))? HTTP/1\.[01]"')
KV_RE = re.compile(r"(\w+)=(\d+)")
WORD_RE = re.compile(r"[a-z]+")


def record(rng, i):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 40)))
    user = "%s.%s%d" % (rng.choice(WORDS), rng.choice(WORDS), rng.randrange(1000))
    query = "&".join("%s=%d" % (rng.choice(WORDS), rng.randrange(10000))
                     for _ in range(rng.randrange(0, 4)))
    return {
        "seq": i,
        "ts": 1700000000 + i * 7 + rng.randrange(7),
        "host": "web-%02d" % rng.randrange(32),
        "ip": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        "user": user,
        "mail": user + "@example.org",
        "request": '"%s %s%s HTTP/1.1"' % (rng.choice(METHODS), rng.choice(PATHS),
                                          ("?" + query) if query else ""),
        "status": rng.choice(STATUS),
        "bytes": rng.randrange(100000),
        "message": "%s took=%d retries=%d" % (words, rng.randrange(5000), rng.randrange(4)),
        "tags": [rng.choice(WORDS) for _ in range(rng.randrange(0, 6))],
    }


def one_round(rng, n, first):
    text = "\n".join(json.dumps(record(rng, first + i), sort_keys=True) for i in range(n))
    nbytes = len(text)
    matches = 0
    by_status = {}
    words = {}
    for line in text.split("\n"):
        rec = json.loads(line)
        s = by_status.setdefault(str(rec["status"]), {"count": 0, "bytes": 0, "hosts": {}})
        s["count"] += 1
        s["bytes"] += rec["bytes"]
        s["hosts"][rec["host"]] = s["hosts"].get(rec["host"], 0) + 1
        for w in WORD_RE.findall(rec["message"]):
            words[w] = words.get(w, 0) + 1
    ips = IP_RE.findall(text)
    mails = MAIL_RE.findall(text)
    paths = {}
    for m in PATH_RE.finditer(text.replace('\\"', '"')):
        paths[m.group(2)] = paths.get(m.group(2), 0) + 1
    kv = sum(int(v) for _, v in KV_RE.findall(text))
    masked = MAIL_RE.sub("<mail>", IP_RE.sub(lambda m: m.group(1) + ".x.x.x", text))
    matches = len(ips) + len(mails) + sum(paths.values())
    summary = json.dumps({"status": by_status, "paths": paths, "top": sorted(
        words.items(), key=lambda kv_: (-kv_[1], kv_[0]))[:20], "kv": kv}, sort_keys=True)
    crc = zlib.crc32(masked.encode()) ^ zlib.crc32(summary.encode())
    return nbytes, matches, crc


def main():
    a = wl.options("JSON and regular-expression text processing", "records per round", 10000, 4)
    rng = random.Random(a.seed)
    records = total_bytes = matches = 0
    checksum = 0
    start = time.monotonic()
    for _ in wl.rounds(a):
        nbytes, m, crc = one_round(rng, a.n, records)
        records += a.n
        total_bytes += nbytes
        matches += m
        checksum = (checksum * 31 + crc) % 1000000007
    secs = time.monotonic() - start
    print("pytext: rounds=%d records=%d bytes=%d seconds=%.2f records_per_sec=%.0f matches=%d checksum=%d"
          % (a.rounds, records, total_bytes, secs, records / secs if secs > 0 else 0, matches, checksum))
    return 0


if __name__ == "__main__":
    sys.exit(main())
