"""The runner: fixtures -> actions through the adapter -> waits at the simulators -> checks -> verdicts."""
