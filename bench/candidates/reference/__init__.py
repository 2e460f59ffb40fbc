"""The reference candidate: a small but genuine practice-software client built into the bench."""

from bench.candidates.reference.candidate import ReferenceCandidate
from bench.candidates.reference.defects import DEFECTS, Defect

__all__ = ["DEFECTS", "Defect", "ReferenceCandidate"]
