"""deploy/benchmark.py and deploy/op_profile.py on a flatbuffer as `ser-bnn export` writes it (the
bundled model: a waveform and a statistics input, three outputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "ser_bnn" / "pretrained" / "bcrnn-emodb.tflite"
sys.path.insert(0, str(ROOT / "deploy"))


def test_cuts_of_the_graph_compute_what_the_whole_graph_computes():
    from benchkit import inputs_for
    from op_profile import cut_after, cut_points, op_labels

    from ser_bnn.runtime.interpreter import LceInterpreter

    data = MODEL.read_bytes()
    labels = op_labels(data)
    cuts = cut_points(labels)
    assert cuts[-1] == len(labels) and any("WHILE" in labels[k - 1] for k in cuts)
    whole = LceInterpreter(data)
    x = inputs_for(whole, (0.1 * np.random.default_rng(0).standard_normal(48000)).astype(np.float32))
    want = {tuple(o.shape): o for o in whole.invoke(x)}
    k = next(i for i, lab in enumerate(labels, 1) if lab.endswith("-> StatefulPartitionedCall:2"))
    part = LceInterpreter(cut_after(data, k))  # ends at the window statistics output
    (stats,) = part.invoke(inputs_for(part, x[0]))
    np.testing.assert_array_equal(stats, want[(1, 3, 40)])


def test_benchmark_runs_on_exported_files_and_prints_the_ratio(tmp_path: Path):
    out = tmp_path / "bench.json"
    args = [
        str(MODEL),
        "--float",
        str(MODEL),
        "--runs",
        "3",
        "--warmup",
        "1",
        "--no-sweep",
        "--no-startup",
        "--json",
        str(out),
    ]
    p = subprocess.run([sys.executable, str(ROOT / "deploy" / "benchmark.py"), *args],
                       capture_output=True, text=True, cwd=tmp_path, timeout=900)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    assert "ratio BCRNN / CRNN, default kernels (predict):" in p.stdout
    assert "vector extensions:" in p.stdout and "per-op profile" in p.stdout
    r = json.loads(out.read_text())
    rows = r["headline"]["rows"]
    assert len(rows) == 4 and all(row["correct"] for row in rows)
    assert set(r["headline"]["ratios"]) == {"default kernels (predict)", "XNNPACK (predict --fast)"}
    parts = r["profile"]["by_part"]
    assert {"front end", "LSTM forward", "LSTM backward", "FC head"} <= set(parts)
    assert abs(sum(v["ms"] for v in parts.values()) - r["profile"]["total_ms"]) < 1e-6
    assert r["files"]["BCRNN"]["file"] == MODEL.name  # no machine paths in the JSON


def test_benchmark_bad_arguments_one_line(tmp_path: Path):
    p = subprocess.run([sys.executable, str(ROOT / "deploy" / "benchmark.py"), "missing.tflite"],
                       capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert p.returncode == 2 and "missing.tflite not found" in p.stderr and "Traceback" not in p.stderr
