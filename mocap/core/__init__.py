"""Shared conventions, the types passed between stages, the skeleton and the capture loop."""
