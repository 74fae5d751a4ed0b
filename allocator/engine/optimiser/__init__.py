"""The optimiser: a time-indexed model over pools, its LP by column generation, then dives, cuts
and small MIPs. `solve.solve_optimal` is the outline; docs/engine.md states the formulation."""
