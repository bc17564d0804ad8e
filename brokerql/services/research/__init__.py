"""Information platform use cases (B1-B5): editing and review, feed imports, reading, scheduled
publishing and the SMS notices of info express."""
