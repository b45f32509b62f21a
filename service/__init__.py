"""Iceberg: competency portraits for contact-center agents."""

__version__ = "0.1.0"

import os as _os

# litellm fetches its model cost map from the network at import unless told not to; Iceberg runs offline.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
