"""The domain: places, people, sessions, badges, check-ins, accounts. Knows nothing of HTTP."""
