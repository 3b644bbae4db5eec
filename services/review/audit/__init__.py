"""The audit log: append-only, hash-chained per tenant (see chain.py for the hash)."""
