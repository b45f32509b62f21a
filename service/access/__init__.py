"""Who may do what: API keys with roles, supervisors limited to their own teams."""
