"""Time in one place: now, the stored text of a moment, reading it back, and China's days and minutes.

A stored moment (created_at, submitted_at, a scan's time…) is UTC with milliseconds, ISO 8601 with
a Z — "2026-05-28T01:00:00.000Z" — so the text sorts as the time does, in SQLite as in Python.
Session times are wall-clock text without a zone ("2026-05-28T09:00"): China Standard Time (UTC+8,
no summer time), whatever zone the computer itself is set to. HLC stamps (store/hlc.py) order
changes; they are not for reading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


def now() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """The stored text of a moment: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return utc_text(now())


def parse(text: str | datetime) -> datetime:
    """A stored moment or a session's wall-clock time as an instant; a time without a zone is China's."""
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(str(text))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


def in_china(text: str | datetime) -> datetime:
    """The moment on China's clocks (without a zone, as sessions and sheets write it)."""
    return parse(text).astimezone(CHINA).replace(tzinfo=None)


def wall() -> datetime:
    """China's clock now, without a zone: as a session's time is written."""
    return in_china(now())


def today(ms: int | None = None) -> date:
    """China's calendar day now, or at `ms` since the epoch (a laptop's hub-corrected clock)."""
    moment = now() if ms is None else datetime.fromtimestamp(ms / 1000, UTC)
    return moment.astimezone(CHINA).date()


def minute(moment: datetime | None = None) -> str:
    """Now (or `moment`) as a session's wall-clock time is written: '2026-05-28T09:00', China's."""
    return (in_china(moment) if moment else wall()).strftime("%Y-%m-%dT%H:%M")


def local_time(stamp: str | None) -> str:
    """A stored moment as sheets and pages print it: '2026-05-28 09:00', China's."""
    return in_china(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


def local_day(stamp: str) -> str:
    """The China day ('2026-05-28') a stored moment falls on."""
    return in_china(stamp).date().isoformat()
