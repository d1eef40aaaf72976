"""Sampling plans: which conversations get reviewed, reproducibly, and by whom."""
