"""Where a trained binary network loses information: every binarization point of a run, measured.

    python benchmarks/binarization.py RUN                      # dev speakers of the run, prints a table
    python benchmarks/binarization.py RUN --name default-s0    # also writes results/binarization/NAME.json
    python benchmarks/binarization.py --table                  # the table of every committed result

A binarization point is the binary input of one bit-packed product (a larq `QuantConv2D` whose
input quantizer is a sign): the conv input (when the first layer is binary), the LSTM input x_t
(one product per direction, the same x), the recurrent input h_{t-1} of each direction, the FC
input. For each point, over the run's development speakers (never its test speakers unless
`--speakers test` is asked for):

- `pos`: the share of +1 per channel (sign(0) = +1), summarized as the mean of |share - 0.5| (0: every
  channel balanced, 0.5: every channel constant) and the share of `dead` channels (one sign in more
  than 99 % of the values: such a bit carries almost nothing);
- `ste`: the share of |x| <= 1, where the straight-through estimator passes the gradient;
- `toggle`: for sequences, the share of bits that change between consecutive steps;
- `probe`: the dev UAR when this one point is computed in float in the trained model: sign(v) is
  replaced by v / mean|v| over the channels (the same mean magnitude as the +-1 vector, so the
  layer's scales still fit). An evaluation-time probe, not a retraining: the network was trained
  on the signs, so this measures the information the sign drops that the next layer, as trained,
  can use. `all` computes every point in float.

The flip ratio of the latent binary weights per epoch comes from the run's `flips.json`
(`ser_bnn.training.flip_ratio`; runs trained before it existed have none).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import ser_bnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from ser_bnn.atomic import atomic_write_text
from ser_bnn.errors import SerBnnError

RESULTS = Path(__file__).resolve().parent / "results" / "binarization"
DOC = Path(__file__).resolve().parents[1] / "docs" / "BINARIZATION.md"
BEGIN, END = "<!-- binarization:begin -->", "<!-- binarization:end -->"
SCREEN_BEGIN, SCREEN_END = "<!-- screening:begin -->", "<!-- screening:end -->"
ABLATION = Path(__file__).resolve().parent / "results" / "ablation.json"
# the screened candidates (ser_bnn.recipes.VARIANTS) and the default they are paired with
CANDIDATES = ("thresholds", "recurrent-2bit", "recurrent-norm", "approx-sign", "two-stage")
REFERENCE = "lstm256"  # the default preset's shape under the ablation protocol
KINDS = {"conv": "conv_input", "input_proj": "lstm_input", "proj": "fc_input"}


def point_kind(sub_name: str) -> str:
    return "recurrent" if sub_name.startswith("recurrent_proj") else KINDS.get(sub_name, sub_name)


def binary_inputs(model) -> dict[str, object]:  # noqa: ANN001
    """{"layer/sublayer": QuantConv2D} of every product with a binarized input."""
    import larq as lq

    out = {}
    for top in model.layers:
        for sub in top.submodules if hasattr(top, "submodules") else []:
            if isinstance(sub, lq.layers.QuantConv2D) and sub.input_quantizer is not None:
                out[f"{top.name}/{sub.name}"] = sub
    return out


class Recorder:
    """An input quantizer that keeps the sign (or, as a probe, v / mean|v|) and records statistics."""

    def __init__(self, sign, float_probe: bool = False, record: bool = False) -> None:  # noqa: ANN001
        self.sign, self.float_probe, self.record = sign, float_probe, record
        self.n = 0
        self.pos = None
        self.ste = 0
        self.toggles, self.pairs = 0, 0
        self.prev = None

    def __call__(self, x):  # noqa: ANN001, ANN204
        import tensorflow as tf

        if self.record:
            self._update(x.numpy())
        if self.float_probe:
            return x / tf.maximum(tf.reduce_mean(tf.abs(x), axis=-1, keepdims=True), 1e-12)
        return self.sign(x)

    def _update(self, v: np.ndarray) -> None:
        flat = v.reshape(-1, v.shape[-1])
        self.n += flat.shape[0]
        pos = (flat >= 0).sum(axis=0)
        self.pos = pos if self.pos is None else self.pos + pos
        self.ste += int((np.abs(flat) <= 1.0).sum())
        bits = v >= 0
        if v.ndim == 4 and v.shape[1] > 1:  # [B, T, 1, C]: a whole sequence at once
            self.toggles += int((bits[:, 1:] != bits[:, :-1]).sum())
            self.pairs += bits[:, 1:].size
        elif v.ndim == 4 and v.shape[1] == 1 and v.shape[2] == 1:  # one recurrent step [B, 1, 1, H]
            if self.prev is not None and self.prev.shape == bits.shape:
                self.toggles += int((bits != self.prev).sum())
                self.pairs += bits.size
            self.prev = bits

    def reset_sequence(self) -> None:
        self.prev = None

    def summary(self) -> dict:
        share = self.pos / max(self.n, 1)
        return {
            "channels": int(share.size),
            "pos_mean": float(share.mean()),
            "imbalance": float(np.abs(share - 0.5).mean()),
            "dead": float(((share > 0.99) | (share < 0.01)).mean()),
            "ste": self.ste / max(self.n * share.size, 1),
            "toggle": self.toggles / self.pairs if self.pairs else None,
        }


def predict(model, x: np.ndarray, batch: int = 64) -> np.ndarray:  # noqa: ANN001
    """Posteriors in inference mode, traced anew (each probe swaps quantizers, so each retraces)."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # one retrace per probe is intended
    fn = tf.function(lambda xb: model(xb, training=False), autograph=False, reduce_retracing=True)
    return np.concatenate([fn(tf.constant(x[i : i + batch])).numpy() for i in range(0, len(x), batch)])


def dev_uar(model, seg, y, labels, pooling) -> float:  # noqa: ANN001
    from ser_bnn.training.evaluate import decide

    n = len(seg.ids)
    speech = seg.speech if seg.speech is not None else np.ones(len(seg.utt), bool)
    has_speech = np.bincount(seg.utt[speech], minlength=n) > 0
    keep = speech | ~has_speech[seg.utt]
    post = predict(model, seg.x[keep])
    return decide(post, seg.utt[keep], has_speech, y, labels, seg.ids, pooling)["uar"]


def load_run(run: Path, speakers: str, data_dir: str | None = None):  # noqa: ANN201
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.inputs import network_inputs
    from ser_bnn.training.rundir import load_trained

    if not (run / "split.json").is_file():
        raise SerBnnError(f"{run} is not a single-fold run directory (no split.json)")
    split = json.loads((run / "split.json").read_text())
    if not split.get(speakers):
        raise SerBnnError(f"{run} has no {speakers} speakers (train it with --dev-speakers 2)")
    model, cfg = load_trained(run)
    corpus = load_corpus(cfg.dataset, data_dir, **cfg.corpus_options)
    by_id = {u.id: u for u in corpus.utterances}
    utts = [by_id[i] for i in split[speakers]]
    labels = list(cfg.labels)
    seg = network_inputs(utts, cfg.features, None, None, False)
    y = [labels.index(u.label) for u in utts]
    return model, cfg, seg, y, labels, split[f"{speakers}_speakers"]


def measure(run: Path, speakers: str = "dev", stat_segments: int = 192, data_dir: str | None = None) -> dict:
    model, cfg, seg, y, labels, spk = load_run(run, speakers, data_dir)
    points = binary_inputs(model)
    if not points:
        raise SerBnnError(f"{run}: the model has no binarized inputs (a float CRNN?)")
    signs = {name: q.input_quantizer for name, q in points.items()}
    pooling = cfg.model.pooling
    base = dev_uar(model, seg, y, labels, pooling)

    recorders = {name: Recorder(signs[name], record=True) for name in points}
    for name, q in points.items():
        q.input_quantizer = recorders[name]
    x = seg.x[seg.speech] if seg.speech is not None else seg.x
    x = x[np.random.default_rng(0).permutation(len(x))[:stat_segments]]
    for i in range(0, len(x), 32):
        for r in recorders.values():
            r.reset_sequence()
        model(x[i : i + 32], training=False)

    kinds: dict[str, list[str]] = {}
    for name in points:
        kinds.setdefault(point_kind(name.split("/")[-1]), []).append(name)
    probes = {}
    for kind, names in [*kinds.items(), ("all", list(points))]:
        for name, q in points.items():
            q.input_quantizer = Recorder(signs[name], float_probe=name in names)
        probes[kind] = dev_uar(model, seg, y, labels, pooling)
    for name, q in points.items():
        q.input_quantizer = signs[name]

    flips_file = run / "flips.json"
    flips = json.loads(flips_file.read_text())["epochs"] if flips_file.is_file() else []
    return {
        "run": run.name,
        "model": {k: v for k, v in json.loads((run / "config.json").read_text())["model"].items()},
        "speakers": speakers,
        "speaker_ids": spk,
        "n_utterances": len(seg.ids),
        "stat_segments": int(len(x)),
        "uar": base,
        "points": {
            name: {"kind": point_kind(name.split("/")[-1]), **recorders[name].summary()} for name in points
        },
        "probe_uar": probes,
        "flips": flips,
    }


def table(results: dict[str, dict]) -> str:
    lines = [
        "| run | point | channels | +1 share | imbalance | dead | STE share | toggle | float-probe UAR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        base = r["uar"]
        for name, p in r["points"].items():
            probe = r["probe_uar"].get(p["kind"])
            delta = f"{100 * probe:.1f} ({100 * (probe - base):+.1f})" if probe is not None else "-"
            tog = f"{p['toggle']:.3f}" if p["toggle"] is not None else "-"
            lines.append(
                f"| {key} | {name} | {p['channels']} | {p['pos_mean']:.3f} | {p['imbalance']:.3f} | "
                f"{p['dead']:.3f} | {p['ste']:.3f} | {tog} | {delta} |"
            )
        flips = r.get("flips") or []
        fl = ", ".join(f"{100 * e['ratios']['all']:.2f}" for e in flips) if flips else "not recorded"
        lines.append(
            f"| {key} | **dev UAR {100 * base:.1f}; all points float {100 * r['probe_uar']['all']:.1f}** | "
            f"| | | | | | flips % per epoch: {fl} |"
        )
    return "\n".join(lines)


def load_all() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}


def screening_table(ablation: dict[str, dict]) -> str:
    """Dev UAR (mean of the last 3 epochs) of every screened candidate, paired by seed with the default."""
    lines = [
        "| candidate | seed | dev UAR % | default, same seed | difference |",
        "|---|---|---|---|---|",
    ]
    for name in CANDIDATES:
        for seed in range(10):
            suffix = f"-s{seed}" if seed else ""
            row, ref = ablation.get(f"{name}-e12{suffix}"), ablation.get(f"{REFERENCE}-e12{suffix}")
            if row is None:
                continue
            cand, base = 100 * row["dev_uar_last3"], 100 * ref["dev_uar_last3"] if ref else float("nan")
            lines.append(f"| {name} | {seed} | {cand:.1f} | {base:.1f} | {cand - base:+.1f} |")
    return "\n".join(lines)


def _replace_block(text: str, begin: str, end: str, body: str) -> str:
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not (sep and sep2):
        raise SerBnnError(f"{DOC.name} lacks the {begin} ... {end} markers")
    return f"{head}{begin}\n{body}\n{end}{tail}"


def doc_with_table(text: str, results: dict[str, dict]) -> str:
    """`text` (docs/BINARIZATION.md) with its generated blocks (diagnostics, screening) regenerated."""
    text = _replace_block(text, BEGIN, END, table(results))
    ablation = json.loads(ABLATION.read_text()) if ABLATION.is_file() else {}
    return _replace_block(text, SCREEN_BEGIN, SCREEN_END, screening_table(ablation))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "run", nargs="?", help="a finished single-fold run directory (trained with --dev-speakers)"
    )
    p.add_argument("--name", help="write results/binarization/NAME.json")
    p.add_argument("--speakers", choices=("dev", "test"), default="dev")
    p.add_argument("--segments", type=int, default=192, help="segments for the activation statistics")
    p.add_argument("--data-dir", default=None, help="the corpus root (default: as training found it)")
    p.add_argument("--table", action="store_true", help="print the table of the committed results")
    p.add_argument("--write-doc", action="store_true", help="regenerate the table in docs/BINARIZATION.md")
    args = p.parse_args()
    if args.table or args.write_doc:
        if args.write_doc:
            atomic_write_text(DOC, doc_with_table(DOC.read_text(), load_all()))
        print(table(load_all()))
        return 0
    if not args.run:
        p.error("give a RUN directory or --table")
    try:
        r = measure(Path(args.run), args.speakers, args.segments, args.data_dir)
    except SerBnnError as e:
        print(f"binarization.py: error: {e}", file=sys.stderr)
        return 2
    if args.name:
        RESULTS.mkdir(parents=True, exist_ok=True)
        atomic_write_text(RESULTS / f"{args.name}.json", json.dumps(r, indent=1) + "\n")
    print(table({args.name or r["run"]: r}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
