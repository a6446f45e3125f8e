"""Sync between town nodes and the city hub: exactly-once batched push, scoped pull,
enrollment, USB bundles and auto-sync (DESIGN §4, docs/sync.md).

`entities` says which records travel; `protocol` is the wire format; the hub
side is `receive` (batches) + `merge` (records) + `hublog` (what pulls read);
the node side is `node` (push, pull, status) over `client` (HTTP).
"""
