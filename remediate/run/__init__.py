"""The run: findings meet playbooks (`engine`), a plan is approved, applied under a lock with a
write-ahead journal, verified, and rolled back on request; `machine` drives it, `fleet` runs it over
every mapping of an account."""
