"""Dispatch: claim due sync rows, post them upstream, record every attempt, retry or stop.

- ``claims``: the SQL that claims due rows with a lease and reaps expired leases;
- ``retry``: when to try again (exponential backoff with jitter, caps, max age);
- ``outcomes``: what an upstream answer does to a row;
- ``ratelimit``: keeps each upstream account under its quota;
- ``worker``: the loop that ties them together (and processes incoming deliveries).
"""
