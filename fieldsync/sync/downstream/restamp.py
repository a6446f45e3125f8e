"""Never adopt a clock stamp more than 5 minutes ahead of this hub's clock (DESIGN §4 failure
case 5): one rule, for a field, a row and a whole column of a block."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldsync.store import Store
from fieldsync.store.hlc import MAX_AHEAD_MS

if TYPE_CHECKING:
    from fieldsync.sync.downstream.merge import MergeResult


def restamp_if_ahead(store: Store, hlc: str, result: MergeResult) -> str:
    """Never adopt a stamp more than 5 minutes ahead of the hub's clock (failure case 5)."""
    if int(hlc[:16]) - store.hlc.physical_ms() > MAX_AHEAD_MS:
        result.restamped += 1
        return store.hlc.now()
    store.hlc.observe(hlc)
    return hlc


def restamp_column(store: Store, stamps: list[str], result: MergeResult) -> int:
    """restamp_if_ahead for a whole column: observe only the newest stamp kept. Stamps are
    fixed-width text, so the newest is the greatest string. Returns how many were restamped."""
    if not stamps:
        return 0
    limit = store.hlc.physical_ms() + MAX_AHEAD_MS
    newest = max(stamps)
    if int(newest[:16]) <= limit:
        store.hlc.observe(newest)
        return 0
    newest, restamped = None, 0
    for i, stamp in enumerate(stamps):
        if int(stamp[:16]) > limit:
            stamps[i] = store.hlc.now()
            restamped += 1
        elif newest is None or stamp > newest:
            newest = stamp
    if newest:
        store.hlc.observe(newest)
    result.restamped += restamped
    return restamped
