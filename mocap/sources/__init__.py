"""Where frames come from: a webcam, a video file or an image folder, and syncing several."""
