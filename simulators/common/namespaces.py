"""XML namespaces the simulators, builders and checks share (one home each)."""

HL7 = "urn:hl7-org:v3"  # HL7 v3 and CDA R2
