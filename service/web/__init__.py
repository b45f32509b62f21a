"""The HTTP API and the browsable pages. Nothing below this package imports it."""
