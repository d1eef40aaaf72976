"""The name of the organisation's default scorecard, which commands fall back on."""

DEFAULT_SCORECARD_NAME = "Customer support quality"
