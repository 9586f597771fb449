"""dicts.py - Python building and dropping large dicts.

Each round builds a dict of -n entries (keys: strings and ints; values:
short strings, small lists and tuples, sizes drawn from the seed), reads
every entry back into a checksum, then drops the dict. Small objects live in
CPython's own arenas (mmap/munmap, which a preload library sees); the dict's
hash table and longer strings come from malloc. After every third round it
sleeps --idle-ms so decay-based purging runs.

Output, one line on stdout (entries and checksum are exact for a seed):
  dicts: rounds=R entries=N seconds=S entries_per_sec=N checksum=N
"""
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import wl  # noqa: E402  (after the line above)


def build(rng, n):
    d = {}
    for i in range(n):
        r = rng.random()
        key = ("k%d" % i) if i & 1 else i * 7919
        if r < 0.5:
            val = "v" * (8 + int(r * 200))
        elif r < 0.8:
            val = [i, i + 1, str(i)]
        else:
            val = (i, r)
        d[key] = val
    return d


def main():
    a = wl.options("build and drop large dicts", "entries per dict", 200000, 10)
    rng = random.Random(a.seed)
    checksum = 0
    entries = 0
    start = time.monotonic()
    for _ in wl.rounds(a):
        n = a.n // 2 + rng.randrange(a.n // 2 + 1)
        d = build(rng, n)
        for k, v in d.items():
            checksum = (checksum * 31 + len(v if not isinstance(v, tuple) else v[:1])
                        + (k if isinstance(k, int) else len(k))) % 1000000007
        entries += len(d)
        del d
    secs = time.monotonic() - start
    print("dicts: rounds=%d entries=%d seconds=%.2f entries_per_sec=%.0f checksum=%d"
          % (a.rounds, entries, secs, entries / secs if secs > 0 else 0, checksum))
    return 0


if __name__ == "__main__":
    sys.exit(main())
