"""The side that talks to the parent: a town laptop, or a child hub, pushing its outbox to the hub
above and pulling what that hub publishes for it (`node` runs one sync: `push` then `pull`, over
`client`; `scheduler` repeats it in the server)."""
