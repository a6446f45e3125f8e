"""The columnar block: how immutable records (check-ins, submissions) travel compactly.

A batch carries each immutable entity as one block of columns instead of a
list of objects: ids keep their 10 random bytes as one run of text, their
time part and timestamps become small deltas, repeated values (session,
person, station) are dictionary-encoded. Gzip then brings a check-in to about
20 bytes (docs/decisions/0010-columnar-checkins.md). A column whose values do
not fit its codec falls back to a plain list, so encoding never loses data.

decode() checks only the block's shape; column_checks.validate() checks the
values against the entity's marshmallow schema, once per distinct value for
dictionary columns, and says which rows failed and why (they go to quarantine).
Protocol 2 names people the hub holds by the tails of their ids (`person`
columns, sync/refs.py); the hub still reads protocol 1's blocks.

Both sides work a column at a time: one regular expression over a whole
column, min() and max() for ranges, map() for building values. A value is
looked at one by one only when its column has something wrong with it, to say
which rows.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from fieldsync.errors import BadRequest
from fieldsync.i18n import _
from fieldsync.sync import refs

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_RUN = re.compile(r"(?:[0-9A-HJKMNP-TV-Z]{16})*")
CROCKFORD_RUN = re.compile(r"[0-9A-HJKMNP-TV-Z]*")
# Whole columns are checked with one regular expression each, not one call per value.
_ISO_MS_LEN = 24
_ISO_MS_RUN = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)*")  # values of 24 characters
_HLC_PART = r"[0-9]{16}-[0-9]{5}-[0-9A-Za-z_-]{1,64}"
_HLC_LINES = re.compile(rf"{_HLC_PART}(?:\n{_HLC_PART})*")  # stamps joined by newlines
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME_MS = 253402300799999  # 9999-12-31


# -- small pieces ---------------------------------------------------------------
def deltas(numbers: list[int]) -> list[int]:
    return list(map(operator.sub, numbers, [0, *numbers[:-1]]))


def all_ints(values: list) -> bool:
    return not values or set(map(type, values)) == {int}


def undeltas(steps: list) -> list[int]:
    if not all_ints(steps):
        raise BadRequest(_("A delta-encoded column holds a non-integer."), code="bad_block")
    return list(itertools.accumulate(steps))


def within(numbers: list[int], low: int, high: int) -> bool:
    """Every number in low..high (inclusive); an empty list is."""
    return not numbers or (low <= min(numbers) and max(numbers) <= high)


_TO_BASE32 = str.maketrans(CROCKFORD, "0123456789abcdefghijklmnopqrstuv")
_MS = timedelta(milliseconds=1)
_DAY_MS = 86_400_000


_PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]  # 10 bits -> 2 characters


def ms_ulid_prefix(ms: int) -> str:
    return (_PAIRS[(ms >> 40) & 1023] + _PAIRS[(ms >> 30) & 1023] + _PAIRS[(ms >> 20) & 1023]
            + _PAIRS[(ms >> 10) & 1023] + _PAIRS[ms & 1023])


def ulid_prefixes(times: list[int]) -> list[str]:
    """ms_ulid_prefix of each time (0 <= ms < 2**48). The first six characters change only
    every 17 minutes, so they are made once per run of times that share them."""
    pairs, heads, out = _PAIRS, {}, []
    append = out.append
    for ms in times:
        top = ms >> 20
        head = heads.get(top)
        if head is None:
            head = heads[top] = pairs[(top >> 20) & 1023] + pairs[(top >> 10) & 1023] + pairs[top & 1023]
        append(head + pairs[(ms >> 10) & 1023] + pairs[ms & 1023])
    return out


def runs(text: str, width: int, n: int) -> list[str]:
    """A run of n fixed-width pieces of text, cut apart."""
    return [text[i:i + width] for i in range(0, width * n, width)]


def parse_iso_ms(text: str) -> int:
    return (datetime.fromisoformat(text) - _EPOCH) // _MS


@lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    date = _EPOCH + timedelta(days=day)
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}T"


@lru_cache(maxsize=86_400)
def _clock(second_of_day: int) -> str:
    minutes, second = divmod(second_of_day, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}."


_MILLIS = [f"{m:03d}Z" for m in range(1000)]


def iso_ms(ms: int) -> str:
    """Milliseconds since 1970 as stored timestamps look: 2024-11-25T03:14:15.926Z."""
    day, rest = divmod(ms, _DAY_MS)
    seconds, millis = divmod(rest, 1000)
    return f"{_day_prefix(day)}{_clock(seconds)}{millis:03d}Z"


def iso_many(numbers: list[int]) -> list[str]:
    """iso_ms of each number (0 <= ms <= MAX_TIME_MS), the day's text made once per day."""
    days, clock, millis, out = {}, _clock, _MILLIS, []
    append = out.append
    for ms in numbers:
        day, rest = divmod(ms, _DAY_MS)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = _day_prefix(day)
        seconds, milli = divmod(rest, 1000)
        append(prefix + clock(seconds) + millis[milli])
    return out


# -- encoding (node) ------------------------------------------------------------
_NUMBERS = {bool, int, float}


def _dictionary(distinct: list) -> tuple[dict, list]:
    """Distinct values as a dictionary travels, and their order there: ULIDs sorted (their time
    parts shrink to small deltas) and packed ("u"), anything else as it is ("d")."""
    texts = len(distinct) > 1 and all(isinstance(v, str) for v in distinct)
    ulids = _ulid(sorted(distinct)) if texts else None
    if ulids:
        return {"u": {k: v for k, v in ulids.items() if k != "c"}}, sorted(distinct)
    return {"d": distinct}, distinct


def _index(values: list, order: list) -> dict:
    if len(order) <= 1:
        return {}
    index = {value: i for i, value in enumerate(order)}
    return {"i": list(map(index.__getitem__, values))}


def _dict(values: list) -> dict | None:
    if len(set(map(type, values)) & _NUMBERS) > 1:
        return None   # 1, 1.0 and True are one dictionary key: keep them apart as a plain list
    part, order = _dictionary(list(dict.fromkeys(values)))
    return {"c": "dict", **part, **_index(values, order)}


def _ref(values: list, held: set[str]) -> dict | None:
    """People the hub holds by the tails of their ids, the rest as a dictionary (sync/refs.py)."""
    distinct = list(dict.fromkeys(values))
    whole, referred = refs.split(distinct, held)
    if not referred:
        return _dict(values)
    part, order = _dictionary(whole) if whole else ({}, [])
    return {"c": "ref", **part, "x": "".join(map(refs.tail, referred)),
            "h": refs.digest(referred), **_index(values, order + referred)}


def _ulid(values: list) -> dict | None:
    if not values or set(map(type, values)) != {str} or set(map(len, values)) != {26}:
        return None
    randoms = "".join([v[10:] for v in values])
    times = "".join([v[:10] for v in values])
    if not ULID_RUN.fullmatch(randoms) or not CROCKFORD_RUN.fullmatch(times):
        return None
    times = times.translate(_TO_BASE32)
    return {"c": "ulid", "t": deltas([int(t, 32) for t in runs(times, 10, len(values))]), "r": randoms}


def _relative(numbers: list[int], id_ms: list[int] | None) -> dict:
    """Times close to the row's own id time travel as small offsets from it."""
    if id_ms is None:
        return {"t": deltas(numbers)}
    return {"ref": "id", "t": list(map(operator.sub, numbers, id_ms))}


def _time(values: list, id_ms: list[int] | None) -> dict | None:
    # Each value is 24 characters, so the run matches only if every value does.
    if values and not (set(map(type, values)) == {str} and set(map(len, values)) == {_ISO_MS_LEN}
                       and _ISO_MS_RUN.fullmatch("".join(values))):
        return None
    try:
        numbers = list(map(parse_iso_ms, values))
    except ValueError:  # a date that does not exist (month 13): keep the text
        return None
    if not within(numbers, 0, MAX_TIME_MS):  # before 1970: the hub could not rebuild the text
        return None
    return {"c": "time", **_relative(numbers, id_ms)}


def _hlc(values: list, id_ms: list[int] | None) -> dict | None:
    if values and not (set(map(type, values)) == {str} and _HLC_LINES.fullmatch("\n".join(values))):
        return None
    walls = _relative([int(v[:16]) for v in values], id_ms)
    return {"c": "hlc", "w": walls.pop("t"), **walls, "k": [int(v[17:22]) for v in values],
            "n": _dict([v[23:] for v in values])}


def encode(seqs: list[int], values: dict[str, list], columns: dict[str, str], *,
           held: set[str] | None = None) -> dict:
    """One entity's rows (outbox order), given column by column, as a block. `held`: the people ids
    a `person` column may name by reference (protocol 2); without it, protocol 1's block."""
    block = {"n": len(seqs), "seq": deltas(seqs), "cols": {}}
    id_ms = None
    for name, codec in columns.items():
        column = values[name]
        if codec == "ulid":
            encoded = _ulid(column)
            if encoded and name == "id":
                id_ms = undeltas(encoded["t"])
        elif codec in ("time", "hlc"):
            encoded = (_time if codec == "time" else _hlc)(column, id_ms)
        elif codec == "person":
            encoded = _ref(column, held or set())
        elif codec == "dict":
            encoded = _dict(column)
        else:
            encoded = None
        block["cols"][name] = encoded if encoded is not None else {"c": "raw", "v": list(column)}
    return block


# -- decoding (hub) -------------------------------------------------------------
def _shape(condition: bool, message: str) -> None:
    if not condition:
        raise BadRequest(_("Malformed columnar block: %(problem)s", problem=message), code="bad_block")


def _list(value, n: int, what: str) -> list:
    _shape(isinstance(value, list) and len(value) == n, f"{what} must be a list of {n} values.")
    return value


def _decode_dict(column, n: int, what: str) -> tuple[list, list[int] | None]:
    """(distinct values, per-row index or None when there is one value)."""
    _shape(isinstance(column, dict), f"{what} must be an object.")
    distinct = _ulid_list(column["u"], what) if "u" in column else column.get("d")
    _shape(isinstance(distinct, list) and distinct, f"{what}.d must be a non-empty list.")
    return distinct, _decode_index(column, n, len(distinct), what)


def _decode_index(column: dict, n: int, size: int, what: str) -> list[int] | None:
    if "i" not in column:
        _shape(size == 1, f"{what} has several values but no index.")
        return None
    index = _list(column["i"], n, f"{what}.i")
    _shape(all_ints(index) and (not index or 0 <= min(index) <= max(index) < size),
           f"{what}.i points outside .d.")
    return index


def _decode_ref(column: dict, n: int, what: str) -> tuple[list, list[str], str, list[int] | None]:
    """(values sent whole, tails of the ids sent by reference, their digest, per-row index)."""
    whole = _ulid_list(column["u"], what) if "u" in column else column.get("d", [])
    _shape(isinstance(whole, list), f"{what}.d must be a list.")
    tails = column.get("x")
    _shape(isinstance(tails, str) and tails and len(tails) % refs.TAIL_CHARS == 0 and CROCKFORD_RUN.fullmatch(tails),
           f"{what}.x must be whole tails.")
    _shape(isinstance(column.get("h"), str), f"{what}.h must be a digest.")
    tails = runs(tails, refs.TAIL_CHARS, len(tails) // refs.TAIL_CHARS)
    return whole, tails, column["h"], _decode_index(column, n, len(whole) + len(tails), what)


def _ulid_list(packed, what: str) -> list[str]:
    _shape(isinstance(packed, dict), f"{what}.u must be an object.")
    times = undeltas(packed.get("t") if isinstance(packed.get("t"), list) else [None])
    randoms = packed.get("r")
    _shape(isinstance(randoms, str) and len(randoms) == 16 * len(times), f"{what}.u.r has the wrong length.")
    _shape(within(times, 0, 2 ** 48 - 1), f"{what}.u.t is out of range.")
    return list(map(operator.add, ulid_prefixes(times), runs(randoms, 16, len(times))))


def _times(column: dict, key: str, n: int, what: str, id_ms: list[int] | None) -> list[int]:
    numbers = _list(column.get(key), n, f"{what}.{key}")
    if column.get("ref") == "id":
        _shape(id_ms is not None, f"{what} is relative to an id column the block does not have.")
        _shape(all_ints(numbers), f"{what}.{key} holds a non-integer.")
        return list(map(operator.add, numbers, id_ms))
    return undeltas(numbers)


def decode(block, columns: dict[str, str]) -> tuple[list[int], dict[str, tuple]]:
    """Seqs and, per column, (codec, payload) ready for column_checks.validate(). Checks the shape only."""
    _shape(isinstance(block, dict), "a block must be an object.")
    n = block.get("n")
    _shape(type(n) is int and 0 <= n, "n must be a count.")
    seqs = undeltas(_list(block.get("seq"), n, "seq"))
    cols = block.get("cols")
    _shape(isinstance(cols, dict), "cols must be an object.")
    unknown = set(cols) - set(columns)
    _shape(not unknown, f"unknown columns {sorted(unknown)}.")
    decoded, id_ms = {}, None
    for name, spec in columns.items():
        column = cols.get(name)
        _shape(isinstance(column, dict), f"column {name} is missing.")
        codec = column.get("c")
        if codec == "dict":
            decoded[name] = ("dict", _decode_dict(column, n, name))
        elif codec == "ref" and spec == "person":
            decoded[name] = ("ref", _decode_ref(column, n, name))
        elif codec == "ulid":
            randoms = column.get("r")
            _shape(isinstance(randoms, str) and len(randoms) == 16 * n, f"{name}.r has the wrong length.")
            times = undeltas(_list(column.get("t"), n, f"{name}.t"))
            id_ms = times if name == "id" else id_ms
            decoded[name] = ("ulid", (times, randoms))
        elif codec == "time":
            decoded[name] = ("time", _times(column, "t", n, name, id_ms))
        elif codec == "hlc":
            counters = _list(column.get("k"), n, f"{name}.k")
            decoded[name] = ("hlc", (_times(column, "w", n, name, id_ms), counters,
                                     _decode_dict(column.get("n"), n, f"{name}.n")))
        elif codec == "raw":
            decoded[name] = ("raw", _list(column.get("v"), n, f"{name}.v"))
        else:
            _shape(False, f"column {name} has unknown codec {codec!r}.")
    return seqs, decoded


def resolve_refs(decoded: dict[str, tuple], resolve: Callable[[list[str], str], list[str]]) -> dict[str, tuple]:
    """decoded with each `ref` column made a dictionary column: resolve(tails, digest) gives the
    hub's ids for the tails or refuses the batch (sync/refs.py)."""
    out = dict(decoded)
    for name, (codec, payload) in decoded.items():
        if codec == "ref":
            whole, tails, expected, index = payload
            out[name] = ("dict", ([*whole, *resolve(tails, expected)], index))
    return out
