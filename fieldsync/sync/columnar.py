"""The columnar block: how immutable records (check-ins, submissions) travel compactly.

A batch carries each immutable entity as one block of columns instead of a
list of objects: ids keep their 10 random bytes as one run of text, their
time part and timestamps become small deltas, repeated values (session,
person, station) are dictionary-encoded. Gzip then brings a check-in to about
20 bytes (docs/decisions/0010-columnar-checkins.md). A column whose values do
not fit its codec falls back to a plain list, so encoding never loses data.

decode() checks only the block's shape; validate() checks the values against
the entity's marshmallow schema, once per distinct value for dictionary
columns, and says which rows failed and why (they go to quarantine).

Both sides work a column at a time: one regular expression over a whole
column, min() and max() for ranges, map() for building values. A value is
looked at one by one only when its column has something wrong with it, to say
which rows.
"""

from __future__ import annotations

import itertools
import operator
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from marshmallow import Schema, ValidationError
from marshmallow import fields as mfields

from fieldsync.errors import BadRequest
from fieldsync.i18n import _
from fieldsync.records.schemas import Integer

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_RUN = re.compile(r"(?:[0-9A-HJKMNP-TV-Z]{16})*")
_CROCKFORD_RUN = re.compile(r"[0-9A-HJKMNP-TV-Z]*")
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


def _within(numbers: list[int], low: int, high: int) -> bool:
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


def _runs(text: str, width: int, n: int) -> list[str]:
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


def _dict(values: list) -> dict | None:
    if len(set(map(type, values)) & _NUMBERS) > 1:
        return None   # 1, 1.0 and True are one dictionary key: keep them apart as a plain list
    distinct = list(dict.fromkeys(values))
    texts = len(distinct) > 1 and all(isinstance(v, str) for v in distinct)
    ulids = _ulid(sorted(distinct)) if texts else None
    if ulids:
        # Ids sorted by time: their time parts shrink to small deltas.
        distinct = sorted(distinct)
        out = {"c": "dict", "u": {"t": ulids["t"], "r": ulids["r"]}}
    else:
        out = {"c": "dict", "d": distinct}
    if len(distinct) > 1:
        index = {value: i for i, value in enumerate(distinct)}
        out["i"] = list(map(index.__getitem__, values))
    return out


def _ulid(values: list) -> dict | None:
    if not values or set(map(type, values)) != {str} or set(map(len, values)) != {26}:
        return None
    randoms = "".join([v[10:] for v in values])
    times = "".join([v[:10] for v in values])
    if not _ULID_RUN.fullmatch(randoms) or not _CROCKFORD_RUN.fullmatch(times):
        return None
    times = times.translate(_TO_BASE32)
    return {"c": "ulid", "t": deltas([int(t, 32) for t in _runs(times, 10, len(values))]), "r": randoms}


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
    if not _within(numbers, 0, MAX_TIME_MS):  # before 1970: the hub could not rebuild the text
        return None
    return {"c": "time", **_relative(numbers, id_ms)}


def _hlc(values: list, id_ms: list[int] | None) -> dict | None:
    if values and not (set(map(type, values)) == {str} and _HLC_LINES.fullmatch("\n".join(values))):
        return None
    walls = _relative([int(v[:16]) for v in values], id_ms)
    return {"c": "hlc", "w": walls.pop("t"), **walls, "k": [int(v[17:22]) for v in values],
            "n": _dict([v[23:] for v in values])}


def encode(seqs: list[int], values: dict[str, list], columns: dict[str, str]) -> dict:
    """One entity's rows (outbox order), given column by column, as a block."""
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
    if "i" not in column:
        _shape(len(distinct) == 1, f"{what} has several values but no index.")
        return distinct, None
    index = _list(column["i"], n, f"{what}.i")
    _shape(all_ints(index) and (not index or 0 <= min(index) <= max(index) < len(distinct)),
           f"{what}.i points outside .d.")
    return distinct, index


def _ulid_list(packed, what: str) -> list[str]:
    _shape(isinstance(packed, dict), f"{what}.u must be an object.")
    times = undeltas(packed.get("t") if isinstance(packed.get("t"), list) else [None])
    randoms = packed.get("r")
    _shape(isinstance(randoms, str) and len(randoms) == 16 * len(times), f"{what}.u.r has the wrong length.")
    _shape(_within(times, 0, 2 ** 48 - 1), f"{what}.u.t is out of range.")
    return list(map(operator.add, ulid_prefixes(times), _runs(randoms, 16, len(times))))


def _times(column: dict, key: str, n: int, what: str, id_ms: list[int] | None) -> list[int]:
    numbers = _list(column.get(key), n, f"{what}.{key}")
    if column.get("ref") == "id":
        _shape(id_ms is not None, f"{what} is relative to an id column the block does not have.")
        _shape(all_ints(numbers), f"{what}.{key} holds a non-integer.")
        return list(map(operator.add, numbers, id_ms))
    return undeltas(numbers)


def decode(block, columns: dict[str, str]) -> tuple[list[int], dict[str, tuple]]:
    """Seqs and, per column, (codec, payload) ready for validate(). Checks the shape only."""
    _shape(isinstance(block, dict), "a block must be an object.")
    n = block.get("n")
    _shape(type(n) is int and 0 <= n, "n must be a count.")
    seqs = undeltas(_list(block.get("seq"), n, "seq"))
    cols = block.get("cols")
    _shape(isinstance(cols, dict), "cols must be an object.")
    unknown = set(cols) - set(columns)
    _shape(not unknown, f"unknown columns {sorted(unknown)}.")
    decoded, id_ms = {}, None
    for name in columns:
        column = cols.get(name)
        _shape(isinstance(column, dict), f"column {name} is missing.")
        codec = column.get("c")
        if codec == "dict":
            decoded[name] = ("dict", _decode_dict(column, n, name))
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


# -- validation (hub) -----------------------------------------------------------
def validate(seqs: list[int], decoded: dict[str, tuple], schema: Schema) -> tuple[list[list], dict[int, str]]:
    """The values column by column (in decoded's order), and {row index: reason} for the rows
    that failed. A failed row's value in a failing column is None."""
    n = len(seqs)
    bad: dict[int, str] = {}
    columns = [_COLUMN_CHECKS[codec](name, payload, schema.fields[name], n, bad)
               for name, (codec, payload) in decoded.items()]
    return columns, bad


def _check(field, name: str, value):
    try:
        return field.deserialize(value, name, {}), None
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, list) else [str(err.messages)]
        return None, f"{name}: {messages[0]}"


_PLAIN_TYPES = {mfields.String: str, mfields.Integer: int, Integer: int}


def _never(value) -> bool:
    return False


def _acceptor(field):
    """A quick test that is true only of values the field would load unchanged: a plain
    String or Integer field, a value of exactly that type (or None where allowed) that passes
    the field's validators. Anything else goes through field.deserialize, which also says why."""
    kind = _PLAIN_TYPES.get(type(field))
    if kind is None or getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        return _never
    validators, allow_none = tuple(field.validators), field.allow_none

    def accept(value) -> bool:
        if value is None:
            return allow_none
        if type(value) is not kind:
            return False
        try:
            return all(check(value) is not False for check in validators)
        except ValidationError:
            return False

    return accept


def _dict_values(name, payload, field, n, bad) -> list:
    distinct, index = payload
    accept = _acceptor(field)
    cleaned, reasons = [], []
    for value in distinct:
        good, reason = (value, None) if accept(value) else _check(field, name, value)
        cleaned.append(good)
        reasons.append(reason)
    if index is None:
        if reasons[0]:
            bad.update((row, reasons[0]) for row in range(n))
        return [cleaned[0]] * n
    if any(reasons):
        for row, i in enumerate(index):
            if reasons[i]:
                bad.setdefault(row, reasons[i])
    return list(map(cleaned.__getitem__, index))


def _ulid_values(name, payload, field, n, bad) -> list:
    times, randoms = payload
    if not _ULID_RUN.fullmatch(randoms):
        for row in range(n):
            if not _ULID_RUN.fullmatch(randoms[16 * row:16 * row + 16]):
                bad.setdefault(row, f"{name}: not a ULID")
    if _within(times, 0, 2 ** 48 - 1):
        return list(map(operator.add, ulid_prefixes(times), _runs(randoms, 16, n)))
    values = []
    for row, ms in enumerate(times):
        if 0 <= ms < 2 ** 48:
            values.append(ms_ulid_prefix(ms) + randoms[16 * row:16 * row + 16])
        else:
            bad.setdefault(row, f"{name}: ULID time out of range")
            values.append(None)
    return values


def _time_values(name, payload, field, n, bad) -> list:
    if _within(payload, 0, MAX_TIME_MS):
        return iso_many(payload)
    values = []
    for row, ms in enumerate(payload):
        if 0 <= ms <= MAX_TIME_MS:
            values.append(iso_ms(ms))
        else:
            bad.setdefault(row, f"{name}: time out of range")
            values.append(None)
    return values


def _hlc_values(name, payload, field, n, bad) -> list:
    walls, counters, nodes = payload
    node_values = _dict_values(f"{name}.node", nodes, _NodePart(), n, bad)
    if _within(walls, 0, 10 ** 16 - 1) and all_ints(counters) and _within(counters, 0, 10 ** 5 - 1) \
            and all(node_values):
        return list(map("{:016d}-{:05d}-{}".format, walls, counters, node_values))
    values = []
    for row, (wall, counter) in enumerate(zip(walls, counters)):
        if 0 <= wall < 10 ** 16 and type(counter) is int and 0 <= counter < 10 ** 5 and node_values[row]:
            values.append(f"{wall:016d}-{counter:05d}-{node_values[row]}")
        else:
            bad.setdefault(row, f"{name}: not an HLC stamp")
            values.append(None)
    return values


def _raw_values(name, payload, field, n, bad) -> list:
    accept = _acceptor(field)
    values = []
    for row, value in enumerate(payload):
        if accept(value):
            values.append(value)
            continue
        good, reason = _check(field, name, value)
        if reason:
            bad.setdefault(row, reason)
        values.append(good)
    return values


class _NodePart:
    """The node part of an HLC: the same rule as in protocol.HLC_RE."""

    _re = re.compile(r"^[0-9A-Za-z_-]{1,64}$")

    def deserialize(self, value, name, data):
        if isinstance(value, str) and self._re.match(value):
            return value
        raise ValidationError("not an HLC node id")


_COLUMN_CHECKS = {"dict": _dict_values, "ulid": _ulid_values, "time": _time_values,
                  "hlc": _hlc_values, "raw": _raw_values}
