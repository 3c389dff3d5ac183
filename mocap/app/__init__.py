"""The command line, its settings and the wiring of a capture or replay session."""
