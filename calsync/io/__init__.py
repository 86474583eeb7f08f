"""The machine: the clock, atomic files, locks, limits, state paths."""
