"""The Starlette application: GraphQL over HTTP and WebSocket, health, metrics."""
