-- Baseline (c): the payment transaction Kasse's create is compared with: insert a payment, insert an
-- event, update a balance, in 5 round trips (pgbench -n -f, simple protocol). The balance is one of 64
-- rows picked at random: one hot row would measure lock contention, not the database (DESIGN.md).
-- Tables: bench/baselines.py (PG_SETUP) in the kasse_bench database.
\set b random(1, 64)
BEGIN;
INSERT INTO bench_payments (id, merchant_id, amount, currency, method, status, created_at)
    VALUES (md5(random()::text), 'mer_sandbox', 1000, 'EUR', 'sofort', 'requires_action', now());
INSERT INTO bench_events (id, merchant_id, type, payload, created_at)
    VALUES (md5(random()::text), 'mer_sandbox', 'payment.created', '{"amount": 1000}', now());
UPDATE bench_balances SET pending = pending + 1000 WHERE id = :b;
COMMIT;
