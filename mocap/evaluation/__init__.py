"""Accuracy measured on motion-capture clips, for tests and benchmarks."""
