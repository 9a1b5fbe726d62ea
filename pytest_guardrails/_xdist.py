"""Under pytest-xdist, start the slow guardrail items (pyright) first, one per worker.

xdist's ``load`` scheduler hands each worker a run of consecutive items, then refills whichever
worker runs dry; ``worksteal`` splits the collection into one contiguous block per worker. In
registry order both pyright items of a repository and its submodule usually end up on one worker
and run one after the other. Placed where each worker's first items come from, they run side by
side. Only xdist workers reorder, all alike (xdist requires identical collections); a run without
xdist keeps the registry order.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import pytest


def initial_slots(dist: str, workers: int, n_items: int, maxschedchunk: int | None
                  ) -> list[list[int]] | None:
    """The item positions xdist first sends to each worker; None where order does not matter."""
    if workers < 2 or n_items == 0:
        return None
    if dist == "load":  # xdist.scheduler.load.LoadScheduling.schedule
        if n_items < 2 * workers:  # round robin
            return [list(range(w, n_items, workers)) for w in range(workers)]
        chunk = max(min(n_items // workers // 4, maxschedchunk or n_items), 2)
        return [list(range(w * chunk, (w + 1) * chunk)) for w in range(workers)]
    if dist == "worksteal":  # an even split into contiguous blocks
        slots: list[list[int]] = []
        start, remaining = 0, n_items
        for w in range(workers):
            size = remaining // (workers - w)
            slots.append(list(range(start, start + size)))
            start, remaining = start + size, remaining - size
        return slots
    return None  # loadscope/loadfile/loadgroup keep the anchor's items together; each runs all


def spread(items: Sequence[pytest.Item], slow: Sequence[bool], slots: list[list[int]]
           ) -> list[pytest.Item]:
    """``items`` with the slow ones moved to each worker's first slot, then its second, ...;
    the others keep their relative order."""
    heavy = [item for item, s in zip(items, slow) if s]
    if not heavy:
        return list(items)
    depth = max(len(s) for s in slots)
    order = [s[r] for r in range(depth) for s in slots if r < len(s)]
    order += [p for p in range(len(items)) if p not in set(order)]
    placed = dict(zip(order, heavy))
    light = iter(item for item, s in zip(items, slow) if not s)
    return [placed[p] if p in placed else next(light) for p in range(len(items))]


class XdistOrder:
    """Registered as ``guardrails-xdist-order`` whenever guardrails are on. The controller tells
    each worker how it will schedule (a worker's own ``dist`` option reads ``"no"``); the workers
    reorder their collection."""

    NAME = "guardrails-xdist-order"

    def __init__(self, is_slow: Callable[[pytest.Item], bool]) -> None:
        self.is_slow = is_slow

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # xdist.workermanage.WorkerController
        config: pytest.Config = node.config
        node.workerinput["guardrails_dist"] = config.getoption("dist", "load")
        node.workerinput["guardrails_maxschedchunk"] = config.getoption("maxschedchunk", None)

    @pytest.hookimpl(trylast=True)  # after -k/-m deselection: the final collection
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]
                                      ) -> None:
        workerinput: dict[str, Any] = getattr(config, "workerinput", {})
        if "guardrails_dist" not in workerinput:  # not an xdist worker
            return
        slots = initial_slots(
            str(workerinput["guardrails_dist"]), int(workerinput.get("workercount", 1)),
            len(items), workerinput.get("guardrails_maxschedchunk"))
        if slots is not None:
            items[:] = spread(items, [self.is_slow(i) for i in items], slots)
