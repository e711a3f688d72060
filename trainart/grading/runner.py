"""The trusted side of grading: run the check cells here, the student's functions there.

The check cells of the canonical notebook never run in the student's kernel. They run in the
grader's own process, in a namespace built from the exercise's setup cell, where every
function the student was asked to write is a :class:`RemoteFunction`: calling it sends the
arguments as plain data (:mod:`~trainart.grading.wire`) to the sandboxed kernel, which runs
the student's function and sends back the result (and how it changed its arguments, so that
"do not change the inputs in place" can be checked). References, expected values, hidden
checks and the verdicts therefore stay in this process; the kernel sees only the arguments
of the calls it answers.
"""

from __future__ import annotations

import ast
import builtins
import socket
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import checks as _checks
from . import wire
from .lazy import AST_LOCK


class SandboxLost(BaseException):
    """The kernel stopped answering: ``reason`` is "timeout", "died" or "protocol"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


class StudentError(Exception):
    """An exception the student's code raised that is not one of Python's own."""


def _exception_class(types) -> type:
    if not isinstance(types, list):
        return StudentError
    for name in types[:20]:
        if name == "LinAlgError":
            return np.linalg.LinAlgError
        cls = getattr(builtins, name, None) if isinstance(name, str) else None
        if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
            return cls
    return StudentError


def _mutable_nodes(value, out: list) -> list:
    """Lists, arrays and generators in ``value``, in the order the kernel's decoder builds them."""
    if isinstance(value, list):
        for v in value:
            _mutable_nodes(v, out)
        out.append(value)
    elif isinstance(value, tuple):
        for v in value:
            _mutable_nodes(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _mutable_nodes(v, out)
    elif isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, np.random.Generator):
        _mutable_nodes(value.bit_generator.state, out)
        out.append(value)
    return out


class Remote:
    """The connection to one sandboxed kernel; see the module docstring."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.deadline: float | None = None
        self.broken: SandboxLost | None = None
        self.callbacks: dict[int, object] = {}
        self._callback_numbers: dict[int, int] = {}
        self.calls = 0

    def _register(self, value):
        if callable(value) and not isinstance(value, RemoteFunction):
            number = self._callback_numbers.get(id(value))
            if number is None:
                number = len(self.callbacks)
                self.callbacks[number] = value
                self._callback_numbers[id(value)] = number
            return wire.Handle("f", number)
        raise TypeError(f"the grader cannot send a {type(value).__name__}")

    @staticmethod
    def _handle(kind, number):
        if kind != "o":
            raise wire.WireError("the kernel sent a function")
        return wire.Handle("o", number, name="value returned by your code")

    def _receive(self):
        try:
            return wire.receive(self.sock, self.deadline)
        except wire.Deadline:
            self.broken = SandboxLost("timeout")
        except wire.Closed as e:
            self.broken = SandboxLost("died", str(e))
        except (wire.WireError, ValueError, OSError) as e:
            self.broken = SandboxLost("protocol", str(e))
        raise self.broken

    def _send(self, message, blobs=()):
        try:
            wire.send(self.sock, message, blobs)
        except OSError as e:
            self.broken = SandboxLost("died", str(e))
            raise self.broken from None

    def hello(self) -> None:
        header, _ = self._receive()
        if header.get("op") != "ready":
            self.broken = SandboxLost("protocol", "no greeting")
            raise self.broken

    def call(self, name: str, args: tuple, kwargs: dict):
        if self.broken is not None:
            raise self.broken
        self.calls += 1
        enc = wire.Encoder(on_unknown=self._register)
        tree_args, tree_kwargs = enc.encode(list(args)), enc.encode(dict(kwargs))
        nodes = _mutable_nodes(list(args), []) + _mutable_nodes(dict(kwargs), [])
        # The kernel builds the argument list itself; ours is a fresh one: drop it.
        self._send({"op": "call", "name": name, "args": tree_args, "kwargs": tree_kwargs},
                   enc.blobs)
        while True:
            header, blobs = self._receive()
            op = header.get("op")
            if op == "raise":  # the student's function raised: the check decides what it means
                raise _exception_class(header.get("types"))(
                    _checks.clean(str(header.get("message", "")), 300))
            try:
                if op == "callback":
                    self._answer_callback(header, blobs)
                    continue
                if op == "return":
                    return self._returned(header, blobs, nodes)
                raise wire.WireError(f"unexpected message {op!r}")
            except (wire.WireError, KeyError, TypeError, ValueError) as e:
                self.broken = SandboxLost("protocol", str(e))
                raise self.broken from None

    def _returned(self, header, blobs, nodes):
        refs = dict(enumerate(nodes))
        changed = header.get("changed", [])
        if not isinstance(changed, list):
            raise wire.WireError("malformed changes")
        for item in changed:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)
                    and 0 <= item[0] < len(nodes)):
                raise wire.WireError("malformed change")
            new = wire.Decoder(blobs, refs=refs, handle=self._handle).decode(item[1])
            old = nodes[item[0]]
            if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
                if new.shape == old.shape and old.flags.writeable:
                    np.copyto(old, new, casting="unsafe")
            elif isinstance(old, list) and isinstance(new, list):
                old[:] = new
            elif isinstance(old, np.random.Generator) and isinstance(new, np.random.Generator):
                old.bit_generator.state = new.bit_generator.state
        return wire.Decoder(blobs, refs=refs, handle=self._handle).decode(header.get("value"))

    def _answer_callback(self, header, blobs):
        number = header.get("handle")
        fn = self.callbacks.get(number) if isinstance(number, int) else None
        if fn is None:
            raise wire.WireError("a callback that does not exist")
        dec = wire.Decoder(blobs, handle=self._handle)
        args, kwargs = dec.decode(header.get("args")), dec.decode(header.get("kwargs"))
        if not isinstance(args, list) or not isinstance(kwargs, dict) or \
                not all(isinstance(k, str) for k in kwargs):
            raise wire.WireError("malformed callback arguments")
        try:
            result = fn(*args, **kwargs)
            enc = wire.Encoder(on_unknown=self._register)
            tree = enc.encode(result)
        except Exception as e:  # the student's arguments made our function fail
            self._send({"op": "raise", "types": [c.__name__ for c in type(e).__mro__],
                        "message": str(e)[:500]})
            return
        self._send({"op": "result", "value": tree}, enc.blobs)

    def done(self) -> None:
        if self.broken is None:
            try:
                wire.send(self.sock, {"op": "done"})
            except OSError:
                pass


class RemoteFunction:
    """Stands in for a student's function in the checks' namespace."""

    def __init__(self, remote: Remote, name: str):
        self.remote, self.__name__, self.__qualname__ = remote, name, name

    def __call__(self, *args, **kwargs):
        return self.remote.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


def student_names(solution_sources: list[str]) -> list[str]:
    """The top-level names the reference solution cells define (what the checks call)."""
    names = []
    for src in solution_sources:
        with AST_LOCK:
            tree = ast.parse(src)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
    return names


@dataclass
class Verdict:
    id: str
    passed: bool
    message: str
    lost: str = ""  # why the kernel stopped answering during this check, if it did


_lock = threading.Lock()


def run_checks(setup_sources: list[str], checks: list[tuple[str, str]], names: list[str],
               remote: Remote, cell_timeout: float) -> list[Verdict]:
    """Run every check cell here against ``remote``; one :class:`Verdict` per check."""
    ns: dict = {"__name__": "__trainart_checks__", "__builtins__": builtins}
    for src in setup_sources:
        with AST_LOCK:
            code = compile(src, "<setup>", "exec")
        exec(code, ns)  # the exercise's own code (trusted)
    for name in names:
        ns[name] = RemoteFunction(remote, name)
    verdicts = []
    for cell_id, src in checks:
        if remote.broken is not None:
            verdicts.append(Verdict(cell_id, False, "", lost="after"))
            continue
        remote.deadline = time.monotonic() + cell_timeout
        with AST_LOCK:
            code = compile(src, f"<check {cell_id}>", "exec")
        with _checks.recording() as sink:
            try:
                exec(code, ns)
            except SandboxLost as e:
                verdicts.append(Verdict(cell_id, False, "", lost=e.reason))
                continue
            except Exception as e:  # outside `with check`: report it like check() would
                sink.append((False, f"your code raised {type(e).__name__}: "
                                    f"{_checks.clean(str(e), 200)}"))
        if remote.broken is not None and not sink:
            verdicts.append(Verdict(cell_id, False, "", lost=remote.broken.reason))
            continue
        passed = bool(sink) and all(ok for ok, _ in sink)
        message = next((m for ok, m in sink if not ok), "" if sink else "no check ran")
        verdicts.append(Verdict(cell_id, passed, message))
    return verdicts
