"""The pure core: the plan, its expansion, the rules, placement and fitting. No I/O, no click."""
