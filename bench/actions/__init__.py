"""The typed action registry: every action a scenario step may name, with its parameter model, and how the runner
performs it. Domains register theirs in ``bench/domains/<domain>/actions.py``; ``core`` holds the actions every
health software answers (patient record, documents)."""
