"""Delivery: drains the outbox, renders each event in the receiving dialect's format, signs it,
sends it, records every attempt, and retries on a schedule measured on the merchant's clock."""
