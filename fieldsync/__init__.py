"""fieldsync: offline-first field-data collection with exactly-once sync."""

__version__ = "0.1.0"

# Bumped when the sync wire format changes incompatibly (DESIGN §4, failure case 9).
PROTOCOL_VERSION = 2
