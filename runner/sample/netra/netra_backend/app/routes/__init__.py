"""HTTP routes: request dicts in, service calls out."""
