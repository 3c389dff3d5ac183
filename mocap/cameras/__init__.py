"""The camera model and calibration file, calibration boards, and calibrating from them."""
