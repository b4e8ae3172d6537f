"""Animated trajectories with matplotlib: blitted frames piped into ffmpeg."""
