"""Sync between town laptops and hubs, and between hubs (DESIGN §4, §8a; docs/sync.md).

A hub both answers the laptops and child hubs below it and, in a chain, talks to the hub above
(decision 0130), so the code is split around what both sides share (decision 0210):

- here, shared by both sides: `protocol` (the wire format), `columnar` (the block codec),
  `entities` (which records travel), `batches` (the outbox cut for the wire), `schema`,
  `hublog` (what a hub publishes for pulls), `published`, `quarantine` (changes held on either
  side), `chain` (the rules of a hub of hubs), and the two ways a child joins and feeds its
  parent, each with a parent's half and a child's half: `enrollment` and `bundles`;
- `upstream/`: the side that talks to the parent (push, pull, client, node, scheduler);
- `downstream/`: the side that answers the children (receive, merge, review, ...).
"""
