"""Declarative forms: JSON definitions, the answer schemas built from them, and their submissions."""
