"""Strawberry types: nouns, every field described."""
