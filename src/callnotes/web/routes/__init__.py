"""HTTP routes, one module per area of the UI; ``api`` is the JSON API under ``/api``."""
