"""Candidate adapters: how the bench asks a candidate software to act (see docs/candidate-actions.md)."""
