"""Landmarks to 3D joints in the world: one camera, or several triangulated."""
