"""Training cases: the team-written library in ``knowledge/`` and retrieval of the ones that fit an agent."""
