"""Thin resolvers: read the arguments, call a service, map the result to schema types."""
