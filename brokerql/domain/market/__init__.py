"""The simulated market's pure domain: instruments and board rules, sessions, matching, quotes.

No I/O and no clock reads here: callers pass moments and phases in, so every result is reproducible.
"""
