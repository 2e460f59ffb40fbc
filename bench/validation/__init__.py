"""CI-SIS validation packs (XSD, Schematron, value sets as ANS distributes them) and their compiled forms."""
