"""Joints to bone rotations on the canonical humanoid: solver, joint limits, proportions, feet."""
