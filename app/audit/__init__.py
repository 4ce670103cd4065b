"""Security log (and, with the customer history, the hash-chained audit log)."""
