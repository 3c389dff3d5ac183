"""2D and 3D landmarks from each camera's images (MediaPipe), and its models."""
