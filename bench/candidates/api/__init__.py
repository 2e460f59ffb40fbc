"""The candidate hook API (OpenAPI 3.1 in ``candidate-api.yaml``) and its models."""

from pathlib import Path

OPENAPI_FILE = Path(__file__).with_name("candidate-api.yaml")
