"""First-party conditioning fusers."""
