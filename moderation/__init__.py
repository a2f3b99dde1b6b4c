"""Moderation rules: roles, sanctions, rate limits, reports, audit and crisis language.

Plain typed code with no I/O: `server/` supplies storage, sockets and the clock (`now` is always
passed in).
"""
