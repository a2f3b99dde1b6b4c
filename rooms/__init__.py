"""Room rules: catalogue, identities within a room, message text, history bounds.

Plain typed code with no I/O: `server/` supplies sockets, storage, clocks and randomness.
"""
