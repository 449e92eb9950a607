"""The cyclic garbage collector, tuned for a long-running server worker.

Measured with one worker on SQLite at 64 concurrent chat completions (bench notes in
bench/RESULTS.md): with CPython's default thresholds (700, 10, 10) the collector took about
110 µs of every request. Two causes, two changes:

* Full (generation 2) passes walk every object the worker has loaded — routes, compiled
  templates, the catalog, about 230 000 objects — roughly once a second under load, 80 ms
  each. ``gc.freeze()`` once start-up is done moves all of them to the permanent generation,
  which no pass walks again; CPython documents it for exactly this. Objects made later are
  collected as before.
* A young (generation 0) pass every 700 net allocations catches the objects of the requests in
  flight, which are alive, so they are promoted and later walked again by the older
  generations. Nearly all of a request's objects are freed by reference counting when it
  ends; with 20 000 the young passes become rare (none in 14 s of load instead of 2 000) and
  see mostly garbage. Memory cost: at most that many unreachable objects waiting, a few MB.

Reference cycles are still collected; only how often changes.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)


def tune_collector() -> None:
    """Call once, when the worker's long-lived objects exist (the end of start-up)."""
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
