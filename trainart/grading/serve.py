"""The kernel's side of grading: answer the grader's calls of the student's functions.

The last cell of the notebook that runs in the sandbox calls :func:`serve`. It connects to
the grader's socket and, until the grader says ``done``, runs each requested function of the
notebook's namespace on the arguments it is sent and sends back the result, how the call
changed its arguments (in-place updates), or the exception it raised. Functions the grader
passes (an objective, a gradient) become callables that ask the grader.

Everything here runs in the student's kernel and is therefore *not trusted*: the grader
believes nothing it says beyond plain data, and decides every check itself.
"""

from __future__ import annotations

import socket

import numpy as np

from . import wire


class _Session:
    def __init__(self, sock, namespace):
        self.sock, self.namespace = sock, namespace
        self.objects: dict[int, object] = {}  # opaque values we returned, by number
        self.numbers: dict[int, int] = {}

    # ---------------------------------------------------------------- values we send
    def _unknown(self, value):
        if hasattr(value, "__array__"):
            try:
                arr = np.asarray(value)
                if arr.dtype.char in wire.DTYPES:
                    return arr
            except Exception:
                pass
        number = self.numbers.get(id(value))
        if number is None:
            number = len(self.objects)
            self.objects[number] = value
            self.numbers[id(value)] = number
        return wire.Handle("o", number)

    def encode(self, value, refs=None):
        enc = wire.Encoder(refs=refs, on_unknown=self._unknown)
        return enc.encode(value), enc.blobs

    # ---------------------------------------------------------------- values we receive
    def _handle(self, kind, number):
        if kind == "o":
            if number not in self.objects:
                raise wire.WireError("unknown object")
            return self.objects[number]
        return _Callback(self, number)

    def raise_message(self, exc: BaseException) -> dict:
        return {"op": "raise", "types": [c.__name__ for c in type(exc).__mro__][:20],
                "message": str(exc)[:2000]}

    def call(self, header, blobs):
        dec = wire.Decoder(blobs, handle=self._handle)
        args, kwargs = dec.decode(header["args"]), dec.decode(header["kwargs"])
        built = dec.built
        before = [_snapshot(v) for v in built]
        name = header["name"]
        try:
            if name not in self.namespace:
                raise NameError(f"name '{name}' is not defined")
            result = self.namespace[name](*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - the student's exception goes to the grader
            wire.send(self.sock, self.raise_message(e))
            return
        refs = {id(v): i for i, v in enumerate(built)}
        changed, blobs_out = [], []
        try:
            for i, (value, snap) in enumerate(zip(built, before)):
                if _snapshot(value) != snap:
                    enc = wire.Encoder(refs={k: n for k, n in refs.items() if n != i},
                                       on_unknown=self._unknown)
                    changed.append([i, enc.encode(value)])
                    blobs_out.append(enc.blobs)
            enc = wire.Encoder(refs=refs, on_unknown=self._unknown)
            tree = enc.encode(result)
        except TypeError as e:
            wire.send(self.sock, self.raise_message(TypeError(f"{name} returned {e}")))
            return
        # renumber the blobs of every part into one list
        all_blobs, fixed = [], []
        for (i, sub), sub_blobs in zip(changed, blobs_out):
            fixed.append([i, _shift(sub, len(all_blobs))])
            all_blobs += sub_blobs
        tree = _shift(tree, len(all_blobs))
        all_blobs += enc.blobs
        wire.send(self.sock, {"op": "return", "value": tree, "changed": fixed}, all_blobs)


class _Callback:
    """A function of the grader's, called from the student's code."""

    def __init__(self, session, number):
        self.session, self.number = session, number
        self.__name__ = f"callback{number}"

    def __call__(self, *args, **kwargs):
        s = self.session
        enc = wire.Encoder(on_unknown=s._unknown)
        tree = enc.encode([list(args), kwargs])
        wire.send(s.sock, {"op": "callback", "handle": self.number, "args": tree["l"][0],
                           "kwargs": tree["l"][1]}, enc.blobs)
        header, blobs = wire.receive(s.sock, None)
        if header.get("op") == "result":
            return wire.Decoder(blobs, handle=s._handle).decode(header.get("value"))
        if header.get("op") == "raise":
            raise _exception(header)
        raise wire.WireError("unexpected message")


def _exception(header) -> Exception:
    import builtins

    for name in header.get("types", []):
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            return cls(str(header.get("message", "")))
    return RuntimeError(str(header.get("message", "")))


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, list):
        return tuple(id(v) for v in value) + (len(value),)
    if isinstance(value, np.random.Generator):
        return repr(value.bit_generator.state)
    return None


def _shift(tree, offset):
    """The tree with every blob index moved by ``offset``."""
    if offset == 0 or not isinstance(tree, (dict, list)):
        return tree
    if isinstance(tree, list):
        return [_shift(v, offset) for v in tree]
    (tag, body), = tree.items()
    if tag in ("a", "s"):
        return {tag: [body[0], body[1], body[2] + offset]}
    if tag in ("l", "t"):
        return {tag: [_shift(v, offset) for v in body]}
    if tag == "d":
        return {tag: [[k, _shift(v, offset)] for k, v in body]}
    if tag == "g":
        return {tag: _shift(body, offset)}
    return tree


def serve(namespace: dict, address: str) -> None:
    """Answer the grader's calls on ``address`` until it says it is done."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    session = _Session(sock, namespace)
    wire.send(sock, {"op": "ready"})
    while True:
        header, blobs = wire.receive(sock, None)
        op = header.get("op")
        if op == "done":
            break
        if op == "call":
            session.call(header, blobs)
        else:
            raise wire.WireError(f"unexpected message {op!r}")
    sock.close()
