"""mocap: webcam motion capture to VMC/OSC and BVH."""

__version__ = "0.1.0"
