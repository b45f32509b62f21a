"""One wording for validation errors everywhere: ``field a.b.c: what is wrong``, joined by ``; ``."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(p) for p in item["loc"]) or "(document)"
        parts.append(f"field {location}: {item['msg']}")
    return "; ".join(parts)
