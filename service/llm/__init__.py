"""Everything that talks to a language model: the bundled local server and the litellm calls."""
