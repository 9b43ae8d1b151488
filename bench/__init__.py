"""Benchmark scripts (see docs/benchmarks.md). Not part of the installed package."""
