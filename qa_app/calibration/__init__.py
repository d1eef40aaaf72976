"""Calibration sessions: raters blind-score the same conversations against a benchmark."""
