"""Where solved poses go: VMC over OSC/UDP, BVH files, and the background-thread wrapper."""
