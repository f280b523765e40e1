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
    from ser_bnn.interpreter import read_model

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
    assert sidecar["gating"]["min_speech_frames"] == 25
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
    from ser_bnn.audio import load_audio
    from ser_bnn.export import load_run, wrap_model
    from ser_bnn.export.parity_gate import keras_outputs
    from ser_bnn.interpreter import LceInterpreter
    from ser_bnn.model_io import find_roles, invoke
    from ser_bnn.online import to_tensor, window_outputs_reference
    from ser_bnn.segments import segment_waveform

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
    from ser_bnn.interpreter import read_model

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
    from ser_bnn.interpreter import read_model

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


class _NearZeroFlip:
    """The tiny model's flatbuffer, and Keras references whose LSTM input at the value that the smallest
    BatchNorm offset moves across 0 (over 40 files of speaker 12) is flipped that way, as rounding can do."""

    def __init__(self, tiny_export: dict, tiny_run: Path, emodb_dir: Path) -> None:
        import tf_keras as keras

        from ser_bnn.audio import load_audio
        from ser_bnn.export import load_run, wrap_model
        from ser_bnn.export.flips import INPUT_ATOL
        from ser_bnn.interpreter import LceInterpreter
        from ser_bnn.model_io import find_roles, invoke
        from ser_bnn.segments import segment_waveform

        self.flatbuffer = Path(tiny_export["model"]).read_bytes()
        self.run = run = load_run(tiny_run)
        interp = LceInterpreter(self.flatbuffer)
        n_classes = run.cfg.model.n_classes
        self.roles = find_roles(interp.input_shapes, interp.output_shapes, (1, 48000), n_classes, 40)
        self.stats = np.zeros((1, 3, 40), np.float32)
        # candidates: every window of 40 of speaker 12's files (enough values near 0 for any tiny model)
        wavs = [load_audio(p) for p in sorted((emodb_dir / "wav").glob("12*.wav"))[:40]]
        windows = np.concatenate([segment_waveform(w, run.cfg.features) for w in wavs])
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
        assert 0 < abs(self.shift) < INPUT_ATOL / 2, f"no LSTM input near enough to 0 ({v})"
        self.window = windows[best]
        self.probs = invoke(interp, self.roles, self.window, self.stats).probabilities

    def with_reference(self, offset: float, fn):  # noqa: ANN001, ANN201 - fn(keras_model) -> result
        """fn(the deployed Keras graph with the BatchNorm offset of the channel moved by `offset`)."""
        from ser_bnn.export import wrap_model

        bn = self.run.model.get_layer("bconv_bn")
        weights = bn.get_weights()
        beta = weights[1].copy()
        beta[self.channel] += offset
        bn.set_weights([weights[0], beta, *weights[2:]])
        try:
            return fn(wrap_model(self.run.model, self.run.cfg.features))
        finally:
            bn.set_weights(weights)

    def explain(self, offset: float) -> dict:
        from ser_bnn.export.flips import FlipProbe

        def go(keras_model) -> dict:  # noqa: ANN001
            probe = FlipProbe(self.flatbuffer, keras_model, self.roles)
            assert [a.layer for a in probe.anchors][:2] == ["bconv", "blstm_fw"]
            return probe.explain("lce_default", {}, self.window, self.stats, self.probs, 1e-3)

        return self.with_reference(offset, go)


@pytest.fixture(scope="module")
def near_zero_flip(tiny_export: dict, tiny_run: Path, emodb_dir: Path) -> _NearZeroFlip:
    return _NearZeroFlip(tiny_export, tiny_run, emodb_dir)


def test_flip_probe_attributes_near_zero_sign_flips(near_zero_flip: _NearZeroFlip) -> None:
    """The rounding-flip rule of the parity gate (ser_bnn.export.flips): a reference whose LSTM input crosses
    0 at its value nearest 0 is explained by that flip and agrees once re-anchored; a shift beyond
    INPUT_ATOL, or no flip at all, is not explained."""
    f = near_zero_flip
    e = f.explain(f.shift)
    assert e["explained"], e
    assert e["layers"][0]["layer"] == "blstm_fw" and e["layers"][0]["flipped"] >= 1
    assert e["layers"][0]["max_abs_flipped_value"] <= abs(f.shift) and e["probe_matches_model"]
    assert e["max_abs_diff_flip_corrected"] <= 1e-5
    far = f.explain(f.shift + np.sign(f.shift) * 0.05)  # many values move by 0.05: not rounding
    assert not far["explained"] and "differs by" in far["reason"]
    none = f.explain(0.0)  # the true reference: nothing to explain
    assert not none["explained"] and none["reason"] == "no sign differs at an observable binary input"


def test_parity_gate_flip_window_budget_and_refusals(near_zero_flip: _NearZeroFlip, monkeypatch) -> None:  # noqa: ANN001
    """The gate itself: with a tolerance between the flip's effect and rounding, the flipped window passes
    as a rounding-flip window within the budget, fails over it, and a shift beyond rounding fails."""
    from ser_bnn.export import parity_gate
    from ser_bnn.export.flips import flip_window_budget

    f = near_zero_flip
    e = f.explain(f.shift)
    raw, same = e["max_abs_diff"], e["max_abs_diff_flip_corrected"]
    assert raw > 20 * max(same, 1e-9), e  # the flip moves the output well above rounding
    tol = float(np.sqrt(raw * max(same, 1e-9)))
    inputs = {"heldout_test": f.window[None]}

    def gate(offset: float) -> dict:
        return f.with_reference(offset, lambda k: parity_gate.parity(f.flatbuffer, k, inputs, tol))

    report = gate(f.shift)
    for r in report["settings"].values():
        assert r["rounding_flip_windows"] == 1 and r["max_abs_diff"] > tol >= r["max_abs_diff_flip_corrected"]
        [w] = r["per_stats"]["default"]["rounding_flip_windows"]
        assert w["layers"][0]["layer"] == "blstm_fw"
    with pytest.raises(ExportError, match=r"parity gate failed.*(not explained|top-1)"):
        gate(f.shift + np.sign(f.shift) * 0.05)
    assert flip_window_budget(1) == 1 and flip_window_budget(638) == 6 and flip_window_budget(1000) == 10
    monkeypatch.setattr(parity_gate, "flip_window_budget", lambda n: 0)
    with pytest.raises(ExportError, match="windows differ by sign flips at binary inputs"):
        gate(f.shift)


def test_parity_gate_refuses_corrupted_flatbuffer(tiny_export: dict, tiny_run: Path, tmp_path: Path) -> None:
    """Flatbuffer whose classifier weights were altered in place, against the right Keras model."""
    from ser_bnn.export import describe, edge_inputs, finish_export, load_run, wrap_model
    from ser_bnn.interpreter import read_model

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
    from ser_bnn.predict import load_deployed, predict_file

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
    from ser_bnn.models import load_model

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy, ignore=shutil.ignore_patterns("model", "checkpoints", "tb"))
    run = load_run(copy)
    assert ensure_savedmodel(run) and (copy / "model" / "saved_model.pb").is_file()
    assert not ensure_savedmodel(run)  # an existing SavedModel is left alone
    x = tf.random.stateless_normal([2, 300, 40], seed=[1, 2])
    expected = np.concatenate([run.model(x[i : i + 1]).numpy() for i in range(2)])  # batch-1 model
    np.testing.assert_allclose(load_model(copy / "model")(x).numpy(), expected, atol=1e-6)
