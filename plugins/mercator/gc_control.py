"""The cyclic garbage collector held off around bulk work on objects that hold no cycles.

Each full collection walks every live object: with a million members alive, building more of them
or sending batches paid for that walk again and again (bench/README.md, Activation); a demo batch
makes about 50,000 row tuples and hardly any cycles, and the collector's passes over them cost
about as much as making them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection while the block builds objects that all survive."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def gc_frozen() -> Iterator[None]:
    """Every object alive now moved out of the collector's sight for the block (the plan's members,
    while the batches go out)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
