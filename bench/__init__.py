"""Benchmarks: `./dev bench` runs every `bench/bench_*.py` module and prints one JSON line per figure."""
