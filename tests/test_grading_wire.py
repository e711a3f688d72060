"""The plain-data channel between the grader and a sandboxed kernel, and the self-check."""

from __future__ import annotations

import json
import socket
import struct

import numpy as np
import pytest

from trainart.grading import cli, grade, runner, sandbox, wire


def _roundtrip(value, refs=None):
    enc = wire.Encoder()
    tree = enc.encode(value)
    data = wire.pack({"v": tree}, enc.blobs)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(data)
        header, blobs = wire.receive(b, None)
    return wire.Decoder(blobs, refs=refs).decode(header["v"])


def test_plain_values_round_trip_exactly():
    rng = np.random.default_rng(3)
    value = {"x": rng.standard_normal((3, 4)), "f32": np.arange(5, dtype=np.float32),
             "mask": np.array([True, False]), "n": 7, "s": "text", "nan": float("nan"),
             "t": (1.5, None, [np.int64(4), np.float64(2.5)]), "big": 2**127,
             "rng": np.random.default_rng(9)}
    back = _roundtrip(value)
    assert np.array_equal(back["x"], value["x"]) and back["f32"].dtype == np.float32
    assert back["mask"].dtype == bool and back["n"] == 7 and back["s"] == "text"
    assert np.isnan(back["nan"]) and back["t"][0] == 1.5 and back["t"][1] is None
    assert type(back["t"][2][0]) is np.int64 and back["big"] == 2**127
    assert back["rng"].random() == np.random.default_rng(9).random()


@pytest.mark.parametrize("value", [np.array([object()], dtype=object), {1.5: "key"},
                                   lambda: 0, b"bytes", [set()]])
def test_what_is_not_plain_data_is_refused(value):
    with pytest.raises(TypeError):
        wire.Encoder().encode(value)


@pytest.mark.parametrize("tree,blobs", [
    ({"a": ["|O", [1], 0]}, [b"\0" * 8]),             # object dtype: could carry code
    ({"a": ["<f8", [3], 0]}, [b"\0" * 8]),            # bytes do not match the shape
    ({"a": ["<f8", [1], 5]}, [b"\0" * 8]),            # a missing blob
    ({"p": "cos\nsystem\n(S'ls'\ntR."}, []),          # an unknown tag (a pickle, say)
    ({"r": 0}, []),                                   # a reference to nothing
    ({"h": ["f", 0]}, []),                            # the kernel may not send functions
    ({"d": [[1.5, 0]]}, []),                          # a key that is not a string or int
])
def test_malformed_messages_are_refused(tree, blobs):
    with pytest.raises(wire.WireError):
        wire.Decoder(blobs, handle=runner.Remote._handle).decode(tree)


def test_deep_or_huge_messages_are_refused_before_parsing():
    deep = {"l": []}
    for _ in range(100):
        deep = {"l": [deep]}
    with pytest.raises(wire.WireError):
        wire.Decoder([]).decode(deep)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("<QQ", wire.MAX_MESSAGE + 1, 0))
        with pytest.raises(wire.WireError, match="larger"):
            wire.receive(b, None)
    a, b = socket.socketpair()
    with a, b:
        raw = ("[" * 5000 + "]" * 5000).encode()
        a.sendall(struct.pack("<QQ", len(raw), 0) + raw)
        with pytest.raises(wire.WireError, match="deeply"):
            wire.receive(b, None)
    assert not wire.json_depth_ok('{"a": ' + "[" * 65 + "]" * 65 + "}", 64)
    assert wire.json_depth_ok(json.dumps({"s": "[[[[[[" * 100}), 4)


def test_a_silent_kernel_meets_the_deadline():
    a, b = socket.socketpair()
    with a, b:
        remote = runner.Remote(b)
        remote.deadline = 0.0  # already past
        with pytest.raises(runner.SandboxLost) as lost:
            remote.call("f", (1,), {})
        assert lost.value.reason == "timeout"


def test_exceptions_are_mapped_to_builtins_only():
    assert runner._exception_class(["MyError", "ValueError", "Exception"]) is ValueError
    assert runner._exception_class(["KeyboardInterrupt", "BaseException"]) is \
        runner.StudentError
    assert runner._exception_class(["SystemExit"]) is runner.StudentError
    assert runner._exception_class("not a list") is runner.StudentError


def test_the_self_check_runs_without_a_sandbox_and_says_so(tmp_path, monkeypatch, capsys):
    import nbformat

    from trainart.grading import samples

    monkeypatch.setattr(sandbox, "available", lambda: (False, "bwrap is missing"))
    path = tmp_path / "mine.ipynb"
    nbformat.write(samples.reference("optim_clipping"), path)
    status = cli.main(["check", str(path), "--timeout", "20"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Not sandboxed" in out and "not for credit" in out
    assert cli.main(["grade", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "refusing to grade for credit" in capsys.readouterr().err
    assert grade.SandboxUnavailable
