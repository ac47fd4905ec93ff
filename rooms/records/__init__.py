"""Session records: written when a session ends, kept per the retention setting."""
