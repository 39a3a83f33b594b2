"""First-party task plugins."""
