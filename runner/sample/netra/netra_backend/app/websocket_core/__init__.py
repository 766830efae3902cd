"""In-memory websocket layer: connections, the legacy shared bridge, per-user emitters."""
