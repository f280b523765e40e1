"""Speed research on the exported BCRNN (issue 12): graph variants, per-part latency profiles, the
indirect-BGEMM reproduction, the flatbuffer shrink step, and an arm64 cost model. Findings: SPEED.md.

Run each tool as a module from the repository root, e.g. `python -m research.speed.variants --help`.
The product's own tools (`deploy/benchmark.py`, `deploy/make_golden.py`) stay in deploy/.
"""
