"""Replay of captured exchanges (Sentinelle field captures): bundles, pseudonymisation, checks."""
