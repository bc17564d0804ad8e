"""The domain core: pure Python, no I/O. Everything here is testable without a database or a bus."""
