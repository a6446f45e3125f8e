"""Settings: built-in defaults, then the instance folder's config.toml, then FIELDSYNC_* variables.

The instance folder holds everything that belongs to one installation: the
database, the keys, the node token and config.toml. It is found from
--instance, else $FIELDSYNC_INSTANCE, else a per-user folder.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from fieldsync.errors import BadRequest
from fieldsync.records.validators import whole_number

DEFAULTS = {
    "MODE": "node",             # node (town laptop) or hub (city association)
    "HOST": "127.0.0.1",
    "PORT": 8080,
    "THREADS": 32,              # waitress worker threads: one per concurrently scanning station
    "HUB_URL": None,
    "AUTO_SYNC_SECONDS": 300,   # 0 turns auto-sync off
    "PUSH_SOON_SECONDS": 3,     # with auto-sync on, a change goes to the hub within about this long (0: timer only)
    "DEFAULT_LOCALE": "zh_CN",
    "TOWN": None,               # the town this node serves (set at enrollment or by `init --town`)
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "CERTIFICATE_NUMBER": "社指{year}{seq:05d}",   # {year}, {level} (三级...), {seq}: e.g. 威体指{year}{seq:05d}
    "CERTIFICATE_ISSUER": "",                      # the organisation named on certificates
    "CLIENT_CONNECTIONS": 32,   # open at once from one address (a browser holds 6); 0: no cap
    "DATABASE": None,           # a hub's PostgreSQL database (postgresql://…); None: fieldsync.db in the folder
}
INT_KEYS = {"PORT", "THREADS", "AUTO_SYNC_SECONDS", "PUSH_SOON_SECONDS", "MAX_CONTENT_LENGTH", "CLIENT_CONNECTIONS"}


def default_instance() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "fieldsync"


def resolve_instance(explicit: str | os.PathLike | None = None) -> Path:
    chosen = explicit or os.environ.get("FIELDSYNC_INSTANCE") or default_instance()
    return Path(chosen).expanduser().resolve()


def load(instance: Path) -> dict:
    settings = dict(DEFAULTS)
    toml_path = instance / "config.toml"
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            settings.update({k.upper(): v for k, v in tomllib.load(fh).items()})
    for key in DEFAULTS:
        env = os.environ.get(f"FIELDSYNC_{key}")
        if env is not None:
            settings[key] = _whole_number(key, env) if key in INT_KEYS else env
    return settings


def _whole_number(key: str, text: str) -> int:
    try:
        return whole_number(text.strip())
    except ValueError as exc:
        raise BadRequest(f"FIELDSYNC_{key}: {exc}", code="bad_setting") from None


def save(instance: Path, **values) -> None:
    """Write keys into config.toml, keeping the others (flat string/int values only)."""
    toml_path = instance / "config.toml"
    current = {}
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            current = tomllib.load(fh)
    current.update({k.lower(): v for k, v in values.items() if v is not None})
    lines = []
    for key, value in sorted(current.items()):
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    instance.mkdir(parents=True, exist_ok=True)
    toml_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
