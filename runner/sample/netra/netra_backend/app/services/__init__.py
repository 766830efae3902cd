"""Services: user context, auth, chat and the feature services built on the engine."""
