"""Subscriptions: quotes, order events with resume, heartbeats."""
