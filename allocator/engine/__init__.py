"""The planning engine: one week's batch in, a plan with its reasons out.

`planning.plan` is the entry point; `instance` turns validated tables into arrays, `greedy` and
`optimiser` place households, `assign` picks units within pools and `explain` writes the reasons.
"""
