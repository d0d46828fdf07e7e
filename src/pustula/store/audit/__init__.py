"""The audit trail: the keyed hash chain, its search, and the integrity check that replays it."""
