"""The demo: an organisation built from the real conversations shipped in this package, its
scorecard and calibration, and generated reviews that put it in use."""
