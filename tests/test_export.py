"""`ser-bnn export`: bit-packed conversion, op check, parity gate and the files written.

All tests use one tiny BCRNN really trained on Emo-DB (tests/run_fixture.py) and convert it
with the real LCE converter; nothing is mocked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import run_fixture

import ser_bnn  # noqa: F401
from ser_bnn.errors import ExportError, SerBnnError

# Session fixtures `tiny_run` and `tiny_export`, registered once for both test modules.
pytest_plugins = ["run_fixture"]


def _written(target: Path) -> list[Path]:
    """Every file export may have written for `target` (model, sidecars, temporaries)."""
    return sorted(p for p in target.parent.glob(f"*{target.stem}*"))


def test_export_round_trip_files_and_report(tiny_export: dict, tiny_run: Path) -> None:
    report = tiny_export["report"]
    model = Path(tiny_export["model"])
    data = model.read_bytes()
    sidecar = json.loads(model.with_name("tiny.json").read_text())
    labels = model.with_name("tiny.labels.txt").read_text().split("\n")[:-1]
    cfg = json.loads((tiny_run / "config.json").read_text())

    # labels and front end travel with the model
    assert labels == cfg["labels"] == sidecar["labels"] == report["labels"]
    assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
    assert sidecar["input"]["shape"] == [1, 48000] and sidecar["output"]["shape"] == [1, len(labels)]
    assert sidecar["features"] == cfg["features"] and sidecar["pooling"] == "max"
    assert sidecar["window_samples"] == sidecar["hop_samples"] == 48000
    from ser_bnn.runtime.interpreter import read_model

    embedded = json.loads(read_model(data).metadata["ser_bnn"])
    assert embedded["labels"] == labels and embedded["features"] == cfg["features"]

    # every binary layer is a bit-packed LceBconv2d: conv, 2 x (input, recurrent), FC
    assert report["op_check"]["binary_layers"] == report["op_check"]["lce_bconv2d"] == 6
    assert report["model"]["ops"]["LceBconv2d"] == 6
    assert report["model"]["bitpacked_weight_bytes"] > 0
    assert report["model"]["size_bytes"] == len(data)
    # parity on every held-out window and the edge inputs, both interpreter settings
    par = report["parity"]
    assert par["passed"] and par["windows_per_group"]["heldout_test"] >= len(run_fixture.TINY_TEST_IDS)
    assert set(par["windows_per_group"]) >= {"silence", "noise_full_scale", "sine_440hz"}
    for r in par["settings"].values():
        assert r["top1_agreement"] == 1.0 and r["max_abs_diff"] <= par["tolerance"]
        # with the default statistics (count 0) and with a real test speaker's
        assert set(r["per_stats"]) == {"default", "speaker_12"}
        for c in r["per_stats"].values():
            assert c["speech_decisions_differ"] == 0 and c["window_stats_max_rel_diff"] <= 1e-4
    assert par["statistics"]["default"] == 0 and par["statistics"]["speaker_12"] > 1000
    # the statistics interface: tensors, roles and rules in the sidecar
    roles = {t["role"]: t for t in sidecar["inputs"] + sidecar["outputs"]}
    assert [t["role"] for t in sidecar["inputs"]] == ["waveform", "speaker_stats"]
    assert roles["speaker_stats"]["shape"] == roles["window_stats"]["shape"] == [1, 3, 40]
    assert roles["speech_frames"]["shape"] == [1, 1] and roles["probabilities"]["shape"] == [1, len(labels)]
    assert sorted(t["index"] for t in sidecar["outputs"]) == [0, 1, 2]
    assert sidecar["speaker_stats"]["default"]["mean"] == cfg["features"]["norm_mean"]
    assert sidecar["gating"]["min_speech_frames"] == 30 and sidecar["gating"]["rule"] == "spectral-change"
    # float twin converted the same way is larger; its size is reported
    twin = report["float_twin"]
    assert twin["size_bytes"] > report["model"]["size_bytes"]
    assert twin["compression_ratio"] == pytest.approx(twin["size_bytes"] / len(data))
    assert 0.5 < report["summary"]["binary_mac_share"] < 1.0
    assert json.loads(model.with_name("tiny.report.json").read_text())["parity"]["passed"]
    assert (tiny_run / "model").is_dir()
    # no temporaries left beside the outputs
    assert [p.name for p in _written(model)] == sorted(
        ["tiny.tflite", "tiny.json", "tiny.labels.txt", "tiny.report.json"]
    )


def test_exported_model_matches_keras_on_real_audio(tiny_export: dict, tiny_run: Path,
                                                    emodb_dir: Path) -> None:
    """Independent of the gate's own code: LCE interpreter vs the Keras model on two real files,
    with the default statistics and with statistics of the speaker's audio."""
    from ser_bnn.data.audio import load_audio
    from ser_bnn.dsp.segments import segment_waveform
    from ser_bnn.dsp.speaker import to_tensor, window_outputs_reference
    from ser_bnn.export import load_run, wrap_model
    from ser_bnn.export.parity_gate import keras_outputs
    from ser_bnn.runtime.interpreter import LceInterpreter
    from ser_bnn.runtime.roles import find_roles, invoke

    run = load_run(tiny_run)
    keras_model = wrap_model(run.model, run.cfg.features)
    assert keras_model.output_names == ["probabilities", "window_stats", "speech_frames"]
    interp = LceInterpreter(Path(tiny_export["model"]))
    roles = find_roles(interp.input_shapes, interp.output_shapes, (1, 48000), run.cfg.model.n_classes, 40)
    w = np.concatenate([segment_waveform(load_audio(emodb_dir / "wav" / f"{uid}.wav"), run.cfg.features)
                        for uid in ("12a02Ac", "12b03Ta")])  # 1.2 s (one padded window) and 6.0 s (two)
    speaker = sum((window_outputs_reference(x, run.cfg.features)[0] for x in w[1:]),
                  window_outputs_reference(w[0], run.cfg.features)[0])
    for stats in (np.zeros((1, 3, 40), np.float32), to_tensor(speaker)):
        keras = keras_outputs(keras_model, w, stats)
        got = [invoke(interp, roles, x, stats) for x in w]
        np.testing.assert_allclose([g.probabilities for g in got], keras["probabilities"], atol=1e-5)
        np.testing.assert_allclose([g.window_stats for g in got], keras["window_stats"], rtol=1e-5)
        assert [g.speech_frames for g in got] == list(keras["speech_frames"][:, 0])
    default = keras_outputs(keras_model, w[:1], np.zeros((1, 3, 40)))["probabilities"]
    assert not np.allclose(default, keras["probabilities"][:1], atol=1e-4)  # the statistics matter


def _float_quantizer(x):  # noqa: ANN001, ANN202
    """sign(x) with sign(0)=+1, written so that LCE does not recognise it as a binarization
    (LCE does recognise larq's ste_sign and tf.where(x >= 0, 1, -1))."""
    import tensorflow as tf

    return tf.cast(x >= 0.0, tf.float32) * 2.0 - 1.0


def test_binary_layer_left_in_float_fails_export(tiny_export: dict, tiny_run: Path, tmp_path: Path) -> None:
    from ser_bnn.export import (
        binary_layers,
        check_binary_ops,
        convert,
        describe,
        edge_inputs,
        finish_export,
        load_run,
        wrap_model,
    )
    from ser_bnn.runtime.interpreter import read_model

    run = load_run(tiny_run)
    # The FC layer stays binary in Keras (its kernel is still sign-quantized) but its input
    # binarization is one LCE does not recognise: the converter must leave it as a float op.
    run.model.get_layer("bfc").proj.input_quantizer = _float_quantizer
    keras_model = wrap_model(run.model, run.cfg.features)
    flatbuffer = convert(keras_model)
    expected = binary_layers(keras_model)
    assert len(expected) == 6
    with pytest.raises(ExportError, match=r"bfc.*float (CONV_2D|FULLY_CONNECTED)"):
        check_binary_ops(flatbuffer, expected)
    info = read_model(flatbuffer)
    assert info.ops["LceBconv2d"] == 5

    target = tmp_path / "out" / "float_fc.tflite"
    windows = {k: v[None] for k, v in edge_inputs(run.cfg.features).items()}
    desc = describe(run.cfg, "waveform", info.inputs, info.outputs)
    with pytest.raises(ExportError, match="was converted to a float"):
        finish_export(flatbuffer, keras_model, run, target, windows, desc, float_twin=False)
    assert not target.parent.exists() or not any(target.parent.iterdir())


def test_parity_gate_refuses_perturbed_model(tiny_export: dict, tiny_run: Path, tmp_path: Path) -> None:
    """The flatbuffer of the trained model against a Keras model whose classifier bias moved."""
    from ser_bnn.export import describe, edge_inputs, finish_export, load_run, wrap_model
    from ser_bnn.runtime.interpreter import read_model

    flatbuffer = Path(tiny_export["model"]).read_bytes()
    run = load_run(tiny_run)
    clf = run.model.get_layer("classifier")
    kernel, bias = clf.get_weights()
    clf.set_weights([kernel, bias + np.linspace(-0.2, 0.2, len(bias), dtype=np.float32)])
    keras_model = wrap_model(run.model, run.cfg.features)
    info = read_model(flatbuffer)
    desc = describe(run.cfg, "waveform", info.inputs, info.outputs)
    target = tmp_path / "gate" / "refused.tflite"
    target.parent.mkdir()
    windows = {k: v[None] for k, v in edge_inputs(run.cfg.features).items()}
    with pytest.raises(ExportError, match="parity gate failed, nothing written"):
        finish_export(flatbuffer, keras_model, run, target, windows, desc, float_twin=False)
    assert list(target.parent.iterdir()) == []


def test_parity_gate_takes_settings_and_reference_as_parameters(tiny_export: dict, tiny_run: Path) -> None:
    """Interpreter settings and the Keras reference are arguments (research scripts gate other kernels and
    reuse one reference), not module globals to patch."""
    from ser_bnn.export import edge_inputs, load_run, wrap_model
    from ser_bnn.export.parity_gate import INTERPRETER_SETTINGS, keras_outputs, parity

    run = load_run(tiny_run)
    keras_model = wrap_model(run.model, run.cfg.features)
    windows = {k: v[None] for k, v in edge_inputs(run.cfg.features).items()}
    calls = []

    def reference(model, x, stats=None):  # noqa: ANN001, ANN202
        calls.append(None if stats is None else float(stats.reshape(-1)[0]))
        return keras_outputs(model, x, stats)

    flatbuffer = Path(tiny_export["model"]).read_bytes()
    settings = {"two_threads": {"num_threads": 2}}
    report = parity(flatbuffer, keras_model, windows, 1e-3, settings=settings, reference_outputs=reference)
    assert list(report["settings"]) == ["two_threads"] and report["passed"]
    assert calls == [0.0]  # once per statistics tensor (the default, count 0), not per setting
    assert list(INTERPRETER_SETTINGS) == ["lce_default", "lce_xnnpack"]  # unchanged
    with pytest.raises(ValueError, match="settings"):
        parity(flatbuffer, keras_model, windows, 1e-3, settings={})


class _NearZeroFlip:
    """The tiny model's flatbuffer, and Keras references whose LSTM input at the value that the smallest
    BatchNorm offset moves across 0 (over 40 files of speaker 12) is flipped that way, as rounding can do."""

    def __init__(self, tiny_export: dict, tiny_run: Path, emodb_dir: Path) -> None:
        import tf_keras as keras

        from ser_bnn.data.audio import load_audio
        from ser_bnn.dsp.segments import segment_waveform
        from ser_bnn.export import load_run, wrap_model
        from ser_bnn.export.flips import rounding_bound
        from ser_bnn.runtime.interpreter import LceInterpreter
        from ser_bnn.runtime.roles import find_roles, invoke

        self.flatbuffer = Path(tiny_export["model"]).read_bytes()
        self.run = run = load_run(tiny_run)
        interp = LceInterpreter(self.flatbuffer)
        n_classes = run.cfg.model.n_classes
        self.roles = find_roles(interp.input_shapes, interp.output_shapes, (1, 48000), n_classes, 40)
        self.stats = np.zeros((1, 3, 40), np.float32)
        # candidates: every window of 40 of speaker 12's files (enough values near 0 for any tiny model)
        wavs = [load_audio(p) for p in sorted((emodb_dir / "wav").glob("12*.wav"))[:40]]
        self.windows = windows = np.concatenate([segment_waveform(w, run.cfg.features) for w in wavs])
        # the LSTM input value nearest 0 over all windows, as the deployed Keras graph computes it
        keras_model = wrap_model(run.model, run.cfg.features)
        inner = keras_model.get_layer(run.model.name)
        seq = keras.Model(inner.inputs, inner.get_layer("to_sequence").output)
        fe = keras_model.get_layer("online_frontend")
        values = np.stack([np.asarray(seq(fe([w[None], self.stats])[0]))[0] for w in windows])  # [N, T, F*C]
        filters = run.cfg.model.conv_filters
        slopes = run.model.get_layer("bconv_prelu").get_weights()[0].reshape(-1)
        flat = values.reshape(len(windows), -1)
        # BatchNorm offset that moves each value v just across 0, to about -v/10 (through the PReLU slope
        # on the negative side; still far above float rounding); the value needing the smallest offset
        # is the one to flip
        need = 1.1 * np.where(flat > 0, flat, -flat / slopes[np.arange(flat.shape[1]) % filters])
        best, pos = np.unravel_index(int(np.argmin(np.abs(need))), need.shape)
        v = float(flat[best, pos])
        self.channel = int(pos % filters)
        self.shift = -float(need[best, pos]) if v > 0 else float(need[best, pos])
        self.lstm_input = flat[best]  # the Keras LSTM input of that window
        self.bound = rounding_bound(np.abs(flat[best]).max())
        assert 0 < abs(self.shift) < self.bound / 2, f"no LSTM input near enough to 0: {v} ({self.bound})"
        self.window = windows[best]
        self.probs = invoke(interp, self.roles, self.window, self.stats).probabilities

    def with_reference(self, offset: float, fn, channel: int | None = None, bias: float = 0.0):  # noqa: ANN001, ANN201
        """fn(the deployed Keras graph with the BatchNorm offset of the channel moved by `offset`, and the
        classifier's bias moved by linspace(-bias, bias))."""
        from ser_bnn.export import wrap_model

        bn, clf = self.run.model.get_layer("bconv_bn"), self.run.model.get_layer("classifier")
        weights, clf_weights = bn.get_weights(), clf.get_weights()
        beta = weights[1].copy()
        beta[self.channel if channel is None else channel] += offset
        bn.set_weights([weights[0], beta, *weights[2:]])
        kernel, b = clf_weights
        clf.set_weights([kernel, b + np.linspace(-bias, bias, len(b), dtype=np.float32)])
        try:
            return fn(wrap_model(self.run.model, self.run.cfg.features))
        finally:
            bn.set_weights(weights)
            clf.set_weights(clf_weights)

    def explain(self, offset: float) -> dict:
        from ser_bnn.export.flips import FlipProbe

        def go(keras_model) -> dict:  # noqa: ANN001
            probe = FlipProbe(self.flatbuffer, keras_model, self.roles)
            assert [a.layer for a in probe.anchors][:2] == ["bconv", "blstm_fw+blstm_bw"]
            return probe.explain("lce_default", {}, self.window, self.stats, self.probs, 1e-3)

        return self.with_reference(offset, go)


@pytest.fixture(scope="module")
def near_zero_flip(tiny_export: dict, tiny_run: Path, emodb_dir: Path) -> _NearZeroFlip:
    return _NearZeroFlip(tiny_export, tiny_run, emodb_dir)


def test_flip_probe_attributes_near_zero_sign_flips(near_zero_flip: _NearZeroFlip) -> None:
    """The rounding-flip rule of the parity gate (ser_bnn.export.flips): a reference whose LSTM input crosses
    0 at its value nearest 0 is explained by that flip and agrees once re-anchored; a shift beyond
    the rounding bound, or no flip at all, is not explained."""
    f = near_zero_flip
    e = f.explain(f.shift)
    assert e["explained"], e
    [step] = e["layers"]  # both LSTM directions read the same tensor: one anchor
    assert step["layer"] == "blstm_fw+blstm_bw" and step["flipped"] >= 1 and step["rounding"]
    assert step["max_abs_flipped_value"] <= abs(f.shift) < step["bound"] == pytest.approx(f.bound)
    assert e["probe_matches_model"] and e["max_abs_diff_flip_corrected"] <= 1e-5
    far = f.explain(f.shift + np.sign(f.shift) * 0.05)  # many values move by 0.05: not rounding
    assert not far["explained"] and "> the rounding bound" in far["reason"]
    none = f.explain(0.0)  # the true reference: nothing to explain
    assert not none["explained"] and none["reason"] == "no sign differs at an observable binary input"


def test_judge_flips_by_evidence_not_count(near_zero_flip: _NearZeroFlip) -> None:
    """`judge_flips` on a real LSTM input (one window, 24 000 values) with injected flips: many flips at
    |x| ~ 1e-8 are rounding, one flip at |x| ~ 1e-2 is not, nor a tensor that differs beyond the bound."""
    from ser_bnn.export.flips import ROUNDING_ULPS, UNIT_ROUNDOFF, judge_flips

    f = near_zero_flip
    ref = f.lstm_input.astype(np.float32)
    scale = float(np.abs(ref).max())
    assert f.bound == pytest.approx(ROUNDING_ULPS * UNIT_ROUNDOFF * scale) and 1e-6 < f.bound < 1e-3
    rng = np.random.default_rng(0)
    noisy = ref * (1 + 8 * UNIT_ROUNDOFF * rng.uniform(-1, 1, ref.shape)).astype(np.float32)  # rounding
    assert judge_flips(ref, noisy, "lstm") is None
    many = rng.choice(ref.size, 500, replace=False)
    ref_many, got_many = ref.copy(), noisy.copy()
    ref_many[many], got_many[many] = 1e-8, -1e-8
    step = judge_flips(ref_many, got_many, "lstm")
    assert step["rounding"] and step["flipped"] == 500
    assert step["max_abs_flipped_value"] == pytest.approx(1e-8)
    one = ref.copy()
    j = int(np.argmin(np.abs(np.abs(ref) - 1e-2)))  # a value of |x| ~ 1e-2, flipped alone
    one[j] = -ref[j]
    step = judge_flips(ref, one, "lstm")
    assert step["flipped"] == 1 and not step["rounding"] and "flips at |x| = " in step["reason"]
    assert step["max_abs_flipped_value"] == pytest.approx(1e-2, rel=0.2)
    assert step["max_abs_flipped_value"] > 10 * f.bound
    shifted = got_many + np.float32(10 * f.bound) * (np.arange(ref.size) == 0)  # elsewhere: not rounding
    step = judge_flips(ref_many, shifted, "lstm")
    assert not step["rounding"] and "differs by" in step["reason"]


class _ZeroChannel:
    """A flatbuffer whose LSTM input has one channel at exactly -slope * 1e-8 everywhere (its BatchNorm
    scale 0, offset -1e-8), and Keras references with that offset elsewhere: every window then has
    3000 flipped signs (150 steps x 20 bins) at |x| = 1e-8, or at 1e-2."""

    def __init__(self, f: _NearZeroFlip) -> None:
        from ser_bnn.export import convert, wrap_model

        slopes = f.run.model.get_layer("bconv_prelu").get_weights()[0].reshape(-1)
        self.f, self.channel = f, int(np.argmax(slopes))  # PReLU keeps the sign: -slope * 1e-8 < 0
        assert slopes[self.channel] > 0
        bn = f.run.model.get_layer("bconv_bn")
        self.weights = bn.get_weights()
        gamma, beta = (w.copy() for w in self.weights[:2])
        gamma[self.channel], beta[self.channel] = 0.0, -1e-8
        bn.set_weights([gamma, beta, *self.weights[2:]])
        try:
            self.flatbuffer = convert(wrap_model(f.run.model, f.run.cfg.features))
        finally:
            bn.set_weights(self.weights)
        self.inputs = {"heldout_test": f.windows[:12]}

    def gate(self, offset: float, tolerance: float, bias: float = 0.0) -> dict:
        """The parity gate of the flatbuffer against Keras with the channel's offset at `offset`."""
        from ser_bnn.export.parity_gate import parity

        bn = self.f.run.model.get_layer("bconv_bn")
        gamma, beta = (w.copy() for w in self.weights[:2])
        gamma[self.channel], beta[self.channel] = 0.0, offset
        bn.set_weights([gamma, beta, *self.weights[2:]])
        try:
            return self.f.with_reference(
                0.0, lambda k: parity(self.flatbuffer, k, self.inputs, tolerance), bias=bias
            )
        finally:
            bn.set_weights(self.weights)


@pytest.fixture(scope="module")
def zero_channel(near_zero_flip: _NearZeroFlip) -> _ZeroChannel:
    return _ZeroChannel(near_zero_flip)


@pytest.mark.slow
def test_parity_gate_passes_any_number_of_rounding_flip_windows(zero_channel: _ZeroChannel) -> None:
    """Every window differs by 3000 sign flips at |x| = 1e-8, far beyond the tolerance: all pass as
    rounding-flip windows, and the report gives their count and the largest |x|."""
    tol = 1e-5
    report = zero_channel.gate(1e-8, tol)
    n = report["windows"]
    for r in report["settings"].values():
        assert r["rounding_flip_windows"] >= n // 2 and r["rounding_flip_window_fraction"] > 0.01, r
        assert r["max_abs_diff"] > tol >= r["max_abs_diff_flip_corrected"]
        # (a rare natural rounding flip may join them)
        assert 0.999e-8 <= r["max_abs_flipped_value"] < 1e-6 and r["max_flipped_over_bound"] < 1e-2
        assert r["flipped_signs"] >= 3000 * r["rounding_flip_windows"]
        assert "blstm_fw+blstm_bw" in r["flipped_layers"]
    # the same signs at 1e-2: a flip beyond the rounding bound fails, however few windows
    with pytest.raises(ExportError, match=r"parity gate failed.*flips at \|x\| = 0.01 > the rounding bound"):
        zero_channel.gate(1e-2, tol)


@pytest.mark.slow
def test_parity_gate_refuses_rounding_flips_whose_outputs_still_differ(zero_channel: _ZeroChannel) -> None:
    """The flips are rounding, but the classifier differs too: re-anchored, the outputs still differ."""
    with pytest.raises(ExportError, match=r"parity gate failed.*with the same signs the outputs still"):
        zero_channel.gate(1e-8, 1e-5, bias=0.01)


def test_parity_gate_refuses_corrupted_flatbuffer(tiny_export: dict, tiny_run: Path, tmp_path: Path) -> None:
    """Flatbuffer whose classifier weights were altered in place, against the right Keras model."""
    from ser_bnn.export import describe, edge_inputs, finish_export, load_run, wrap_model
    from ser_bnn.runtime.interpreter import read_model

    run = load_run(tiny_run)
    kernel = run.model.get_layer("classifier").get_weights()[0]  # [fc_units, n_classes]
    data = bytearray(Path(tiny_export["model"]).read_bytes())
    stored = np.ascontiguousarray(kernel.T).tobytes()  # TFLite FULLY_CONNECTED weights: [out, in]
    pos = bytes(data).find(stored)
    assert pos > 0, "classifier weights not found in the flatbuffer"
    data[pos : pos + len(stored)] = np.ascontiguousarray(-kernel.T).tobytes()
    keras_model = wrap_model(run.model, run.cfg.features)
    info = read_model(bytes(data))
    desc = describe(run.cfg, "waveform", info.inputs, info.outputs)
    target = tmp_path / "refused.tflite"
    windows = {k: v[None] for k, v in edge_inputs(run.cfg.features).items()}
    with pytest.raises(ExportError, match="parity gate failed"):
        finish_export(bytes(data), keras_model, run, target, windows, desc, float_twin=False)
    assert list(tmp_path.iterdir()) == []


def test_export_logmel_input_variant(tiny_export: dict, tiny_run: Path, emodb_dir: Path,
                                     tmp_path: Path) -> None:
    from ser_bnn.cli import main
    from ser_bnn.runtime.predict import load_deployed, predict_file

    out = tmp_path / "tiny_logmel.tflite"
    code = main(["export", str(tiny_run), "--tflite", "--input", "logmel", "-o", str(out),
                 "--data-dir", str(emodb_dir), "--no-twin", "--parity-utterances", "4", "--quiet"])
    assert code == 0
    sidecar = json.loads(out.with_name("tiny_logmel.json").read_text())
    assert sidecar["input"]["kind"] == "logmel" and sidecar["input"]["shape"] == [1, 300, 40]
    report = json.loads(out.with_name("tiny_logmel.report.json").read_text())
    assert report["op_check"]["lce_bconv2d"] == 6 and report["parity"]["passed"]
    assert "RFFT2D" not in report["model"]["ops"]  # no front end inside
    # predict computes the features with the NumPy reference front end: same result as the waveform model
    logmel, waveform = load_deployed(out), load_deployed(tiny_export["model"])
    assert logmel.input_kind == "logmel" and waveform.input_kind == "waveform"
    for uid in ("12a02Ac", "08b03Tc"):
        a, b = (predict_file(m, emodb_dir / "wav" / f"{uid}.wav") for m in (logmel, waveform))
        assert a["emotion"] == b["emotion"]
        np.testing.assert_allclose(list(a["pooled_max"].values()), list(b["pooled_max"].values()), atol=1e-5)


def test_export_errors_are_one_line(tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from ser_bnn.cli import main
    from ser_bnn.export import export_run

    with pytest.raises(SerBnnError, match="not a run directory"):
        export_run(tmp_path)
    with pytest.raises(SerBnnError, match="must end in .tflite"):
        export_run(tiny_run, out=tmp_path / "model.bin")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in ("config.json", "split.json"):
        (unfinished / name).write_text((tiny_run / name).read_text())
    (unfinished / "state.json").write_text(json.dumps({"status": "training", "epoch": 1}))
    with pytest.raises(SerBnnError, match="not a finished run"):
        export_run(unfinished)
    # the corpus for the parity check is missing: refuse before converting
    out = tmp_path / "x.tflite"
    code = main(["export", str(tiny_run), "-o", str(out), "--data-dir", str(tmp_path / "nope"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("ser-bnn export: error:")
    assert not out.exists()


def test_export_writes_savedmodel_when_missing(tiny_run: Path, tmp_path: Path) -> None:
    import tensorflow as tf

    from ser_bnn.export import ensure_savedmodel, load_run
    from ser_bnn.nn.models import load_model

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy, ignore=shutil.ignore_patterns("model", "checkpoints", "tb"))
    run = load_run(copy)
    assert ensure_savedmodel(run) and (copy / "model" / "saved_model.pb").is_file()
    assert not ensure_savedmodel(run)  # an existing SavedModel is left alone
    x = tf.random.stateless_normal([2, 300, 40], seed=[1, 2])
    expected = np.concatenate([run.model(x[i : i + 1]).numpy() for i in range(2)])  # batch-1 model
    np.testing.assert_allclose(load_model(copy / "model")(x).numpy(), expected, atol=1e-6)
