"""Hub: check a decoded columnar block's values against the entity's marshmallow schema.

Dictionary columns are checked once per distinct value, the others a column at a time (one
regular expression, min() and max()); a value is looked at alone only when its column has
something wrong with it, to say which rows fail and why (they go to quarantine). The block's
shape was checked by columnar.decode.
"""

from __future__ import annotations

import operator
import re

from marshmallow import Schema, ValidationError
from marshmallow import fields as mfields

from fieldsync.records.schemas import Integer
from fieldsync.sync.columnar import (
    MAX_TIME_MS,
    ULID_RUN,
    all_ints,
    iso_many,
    iso_ms,
    ms_ulid_prefix,
    runs,
    ulid_prefixes,
    within,
)


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
    if not ULID_RUN.fullmatch(randoms):
        for row in range(n):
            if not ULID_RUN.fullmatch(randoms[16 * row:16 * row + 16]):
                bad.setdefault(row, f"{name}: not a ULID")
    if within(times, 0, 2 ** 48 - 1):
        return list(map(operator.add, ulid_prefixes(times), runs(randoms, 16, n)))
    values = []
    for row, ms in enumerate(times):
        if 0 <= ms < 2 ** 48:
            values.append(ms_ulid_prefix(ms) + randoms[16 * row:16 * row + 16])
        else:
            bad.setdefault(row, f"{name}: ULID time out of range")
            values.append(None)
    return values


def _time_values(name, payload, field, n, bad) -> list:
    if within(payload, 0, MAX_TIME_MS):
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
    if within(walls, 0, 10 ** 16 - 1) and all_ints(counters) and within(counters, 0, 10 ** 5 - 1) \
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
