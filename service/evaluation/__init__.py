"""Agreement with human raters: metrics, labelled-set adapters, and (next) the `iceberg eval` harness."""
