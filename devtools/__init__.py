"""Developer tooling, apart from what runs in production: a local Codex, synthetic data, dumps.

`codex_simulator` serves a Codex library over the real API on 127.0.0.1 (for
`make run`, the end-to-end tests and the benchmarks); `synthetic` holds the one
synthetic-id scheme that `seed_synthetic`'s catalog and the simulator's
generated libraries share, so they match without reading each other;
`mangabaka_dump` writes MangaBaka offline dumps in the real schema (tests,
the demo's dump, the metadata benchmark).
"""
