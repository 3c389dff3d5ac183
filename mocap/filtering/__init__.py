"""Detector mistakes caught, then landmarks and rotations filtered live or smoothed offline."""
