"""Benchmarks of Appkeeper at scale: ``make bench`` (``python -m benchmarks``).

Runs on PostgreSQL (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/
appkeeper_bench``; the database is created, migrated and seeded with ``seed_demo`` when
missing or empty) and prints one table: per case the median of several runs, the query
count, and the ratio to a floor measured in the same run. See ``benchmarks/RESULTS.md``.
"""
