"""Use cases: open a unit of work, load, call the domain, commit; the outbox carries the events out."""
