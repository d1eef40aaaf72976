"""Scorecards: versioned criteria, the scoring rule, sampling plans and reviews."""
