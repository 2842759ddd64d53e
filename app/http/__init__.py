"""The HTTP edge: app factory, auth, request bodies, error mapping, routes."""
