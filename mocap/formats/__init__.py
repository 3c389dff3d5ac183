"""Files read and written: BVH, landmarks recordings, TRC, OpenPose JSON, TOML."""
