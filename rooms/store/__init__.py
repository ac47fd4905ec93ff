"""Storage: one contract on two backends (SQLite, Redis), and moving data between them."""
