"""wl.py - what the Python workloads (dicts.py, pytext.py) share: their
options (-n, -r/--rounds, -S/--seed, --idle-ms) and the rounds, with a pause
of --idle-ms after every third round so that decay-based purging runs."""
import argparse
import time


def options(description, n_help, n_default, rounds_default):
    """The parsed command line; exits with status 2 on bad values."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("-n", type=int, default=n_default, help=n_help)
    ap.add_argument("-r", "--rounds", type=int, default=rounds_default, help="rounds")
    ap.add_argument("-S", "--seed", type=int, default=1, help="seed")
    ap.add_argument("--idle-ms", type=int, default=50, help="sleep every third round")
    a = ap.parse_args()
    if a.n < 1 or a.rounds < 1 or a.idle_ms < 0:
        ap.error("values must be positive")
    return a


def rounds(a):
    """Yields the round numbers 0..rounds-1, sleeping --idle-ms after every third."""
    for rnd in range(a.rounds):
        yield rnd
        if rnd % 3 == 2 and a.idle_ms:
            time.sleep(a.idle_ms / 1000.0)
