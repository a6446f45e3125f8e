"""Reading requests safely: JSON bodies only, gzip allowed, size capped after decompression;
numbers in URL paths in ASCII digits of bounded length."""

from __future__ import annotations

import json
import zlib

from flask import request
from werkzeug.routing import BaseConverter

from fieldsync.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from fieldsync.i18n import _
from fieldsync.records.validators import MAX_DIGITS

MAX_JSON_BYTES = 64 * 1024 * 1024  # decompressed; a gzip bomb stops here (failure case 8)


class WholeNumberConverter(BaseConverter):
    """`<int:...>` in our routes: werkzeug's own matches \\d+, so '/conflicts/٣' and a 30-digit
    id (too big for SQLite: a 500) would reach the view. This one is a 404 for both."""

    regex = f"[0-9]{{1,{MAX_DIGITS}}}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def raw_body(limit: int = MAX_JSON_BYTES) -> bytes:
    data = request.get_data(cache=True)
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, limit + 1)
        except zlib.error:
            raise BadRequest(_("The body says it is gzip but does not decompress."), code="bad_gzip") from None
        if len(data) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(_("The body decompresses to more than %(limit)s bytes.", limit=limit),
                                  code="body_too_large")
        if not inflater.eof:
            raise BadRequest(_("The gzip body is truncated."), code="bad_gzip")
    elif encoding != "identity":
        raise UnsupportedMediaType(_("Content-Encoding %(encoding)r is not supported; use gzip or none.",
                                     encoding=encoding), code="unsupported_encoding")
    return data


def json_body(limit: int = MAX_JSON_BYTES):
    mimetype = request.mimetype or ""
    if mimetype != "application/json":
        raise UnsupportedMediaType(code="not_json")
    data = raw_body(limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(_("The body is not valid UTF-8."), code="bad_encoding") from None
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise BadRequest(_("The body is not valid JSON: %(problem)s at line %(line)s, column %(column)s.",
                           problem=exc.msg, line=exc.lineno, column=exc.colno), code="bad_json") from None
    except (ValueError, RecursionError) as exc:
        # Python's parser also fails on nesting deeper than its stack, on numbers of
        # more than 4,300 digits and (through _not_json) on NaN/Infinity.
        raise BadRequest(_("The body is not JSON we accept: %(problem)s", problem=str(exc)[:120]),
                         code="bad_json") from None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")
