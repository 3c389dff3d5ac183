"""Target rigs (VRM, glTF, BVH) and retargeting the canonical pose onto them."""
