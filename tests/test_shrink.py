"""research/speed/shrink.py: a smaller flatbuffer with the same graph, checked with LCE's interpreter.

The models are the issue-12 reproduction cases (research/speed/indirect_bgemm_repro.py): ser_bnn's
BinaryLSTM over 12 steps, unrolled (LceBconv2d ops in the main graph) and as a WHILE loop
(three subgraphs), converted with LCE.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from research.speed.shrink import DATA_ALIGNMENT, anatomy, shrink
from ser_bnn.errors import ExportError
from ser_bnn.runtime.flatbuffer import parse, read_model, schema
from ser_bnn.runtime.interpreter import LceInterpreter

SETTINGS = [
    {},
    {"use_xnnpack": True},
    {"use_indirect_bgemm": True},
    {"use_indirect_bgemm": True, "use_xnnpack": True},
]


def _repro():  # noqa: ANN202
    from research.speed import indirect_bgemm_repro

    return indirect_bgemm_repro


@pytest.fixture(scope="module")
def unrolled() -> bytes:
    return _repro().convert_case("bcrnn_lstm_unrolled")


@pytest.fixture(scope="module")
def looped() -> bytes:
    return _repro().convert_case("bcrnn_lstm")


def _outputs(fb: bytes, opts: dict, xs: list[np.ndarray]) -> list[list[np.ndarray]]:
    it = LceInterpreter(fb, **opts)  # one interpreter, every input in turn (as the parity gate calls it)
    return [it.invoke([x.reshape(s) for s in it.input_shapes]) for x in xs]


def _inputs(fb: bytes, n: int = 3) -> list[np.ndarray]:
    shape = LceInterpreter(fb).input_shapes[0]
    rng = np.random.default_rng(1)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]


def _assert_same_function(a: bytes, b: bytes, settings: list[dict]) -> None:
    xs = _inputs(a)
    for opts in settings:
        for ya, yb in zip(_outputs(a, opts, xs), _outputs(b, opts, xs), strict=True):
            for u, v in zip(ya, yb, strict=True):
                assert np.array_equal(u, v), opts


def _same_graph(a: bytes, b: bytes) -> None:
    ra, rb = parse(a), parse(b)
    assert ra.op_codes == rb.op_codes and len(ra.subgraphs) == len(rb.subgraphs)
    for sa, sb in zip(ra.subgraphs, rb.subgraphs, strict=True):
        assert sa.operators == sb.operators and sa.inputs == sb.inputs and sa.outputs == sb.outputs
        assert [(t.shape, t.type) for t in sa.tensors] == [(t.shape, t.type) for t in sb.tensors]
        for i in sa.inputs + sa.outputs:  # the names the interpreter and predict see are kept
            assert sa.tensors[i].name == sb.tensors[i].name and sa.tensors[i].name
        for ta, tb in zip(sa.tensors, sb.tensors, strict=True):  # constant data unchanged
            assert ra.has_data(ta.buffer) == rb.has_data(tb.buffer)
            if ra.has_data(ta.buffer):
                assert _data(a, ta.buffer) == _data(b, tb.buffer)


def _data(fb: bytes, b: int) -> bytes:
    m = schema().Model.GetRootAs(fb, 0)
    return m.Buffers(b).DataAsNumpy().tobytes()


@pytest.mark.slow
def test_shrunk_unrolled_graph_is_smaller_and_bit_identical(unrolled):
    small = shrink(unrolled)
    assert len(small) < 0.8 * len(unrolled)
    _same_graph(unrolled, small)
    _assert_same_function(unrolled, small, SETTINGS)
    before, after = anatomy(unrolled), anatomy(small)
    assert sum(before["parts"].values()) == len(unrolled) and sum(after["parts"].values()) == len(small)
    assert before["parts"]["tensor names"] > 10 * after["parts"]["tensor names"]
    n_meta = len(read_model(small).metadata)
    assert after["buffers"] == after["buffers_with_data"] + n_meta + 1  # only buffer 0 is empty
    assert after["data_bytes"] == before["data_bytes"] - before["duplicate_data_bytes"]
    sig = schema().Model.GetRootAs(small, 0).SignatureDefs(0)
    assert sig is not None and sig.SignatureKey() == b"serving_default"
    assert shrink(small) == small  # nothing left to remove: a fixed point


@pytest.mark.slow
def test_buffer_data_stays_aligned_and_duplicates_are_stored_once(unrolled):
    tfl = schema()
    model = tfl.ModelT.InitFromPackedBuf(bytearray(unrolled), 0)
    sg = model.subgraphs[0]
    const = [i for i, t in enumerate(sg.tensors) if model.buffers[t.buffer].data is not None]
    dup = tfl.BufferT()
    dup.data = np.array(model.buffers[sg.tensors[const[0]].buffer].data, dtype=np.uint8)
    model.buffers.append(dup)
    sg.tensors[const[0]].buffer = len(model.buffers) - 1
    import flatbuffers

    builder = flatbuffers.Builder(len(unrolled))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with_dup = bytes(builder.Output())
    assert anatomy(with_dup)["duplicate_buffers"] >= 1
    small = shrink(with_dup)
    assert anatomy(small)["duplicate_buffers"] == 0
    _assert_same_function(with_dup, small, SETTINGS[:2])
    m = tfl.Model.GetRootAs(small, 0)
    for b in range(m.BuffersLength()):
        buf = m.Buffers(b)
        if buf.DataLength():
            start = buf._tab.Vector(buf._tab.Offset(4))
            assert start % DATA_ALIGNMENT == 0


@pytest.mark.slow
def test_while_graph_and_metadata(looped):
    from ser_bnn.export.artifact import embed_metadata

    fb = embed_metadata(looped, "ser_bnn", b'{"labels": ["a", "b"]}')
    small = shrink(fb)
    assert len(parse(small).subgraphs) == 3 and len(small) < len(fb)
    _same_graph(fb, small)
    assert read_model(small).metadata == read_model(fb).metadata
    _assert_same_function(fb, small, SETTINGS[:2])  # indirect BGEMM is wrong in WHILE bodies anyway


def test_bad_input_is_a_one_line_error(tmp_path):
    for bad in (b"", b"not a flatbuffer at all", b"\x10\x00\x00\x00TFL3" + b"\xff" * 8):
        with pytest.raises(ExportError) as e:
            shrink(bad)
        assert "\n" not in str(e.value)
        with pytest.raises(ExportError):
            anatomy(bad)


@pytest.mark.slow
def test_benchmark_chosen_graph_is_shrunk_and_cached(unrolled, tmp_path, monkeypatch):
    """deploy/benchmark.chosen_graph(shrunk=True): the cached conversion, shrunk once and cached; the
    research tools' `speedkit.run_graph` finds the same cache entry."""
    from research.speed import speedkit

    deploy = Path(__file__).resolve().parents[1] / "deploy"
    spec = importlib.util.spec_from_file_location("deploy_benchmark_shrink", deploy / "benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(speedkit, "DEFAULT_CACHE", tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    key = speedkit.cache_key("variants-v1", speedkit.run_fingerprint(run), True, False)
    (tmp_path / f"{key}.tflite").write_bytes(unrolled)  # as if converted before: no conversion here
    assert bench.chosen_graph(run) == tmp_path / f"{key}.tflite"
    assert speedkit.run_graph(run, cache_dir=tmp_path) == tmp_path / f"{key}.tflite"
    small = bench.chosen_graph(run, shrunk=True)
    assert small.name == f"{key}-shrunk.tflite" and small.read_bytes() == shrink(unrolled)
    small.write_bytes(b"cached")  # a second call reads the cache, it does not shrink again
    assert bench.chosen_graph(run, shrunk=True).read_bytes() == b"cached"
