"""The demo organisation, built from the real conversations shipped in this package."""
