"""The bench's domains, one package each (declaration in ``__init__``, checks, actions); see docs/architecture.md."""
