"""The application package: agents, services, websocket core, routes."""
