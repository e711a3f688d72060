"""One row of the benchmark table, and the table as Markdown and as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    """One side-by-side figure: the measured value (trainart's, unless the row says otherwise),
    the reference's, their ratio, and the target if any.

    ``passed`` is ``None`` for an informational row (no target), else whether the target was
    met. ``data`` keeps the raw numbers (seconds per round, counts) for the JSON file.
    """

    group: str
    what: str
    value: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    data: dict = field(default_factory=dict)

    @property
    def result(self) -> str:
        return {None: "", True: "pass", False: "FAIL"}[self.passed]


HEADER = ("group", "measurement", "value", "reference", "ratio", "target", "result")


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table (ratios as ``1.23x``)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        cells = (r.group, r.what, r.value, r.reference, ratio, r.target, r.result)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict]:
    """The rows as plain dicts (ratios rounded to 3 digits), for ``bench.json``."""
    out = []
    for r in rows:
        d = asdict(r)
        d["result"] = r.result
        if r.ratio is not None:
            d["ratio"] = round(r.ratio, 3)
        out.append(d)
    return out


def targets_summary(rows: list[Row]) -> str:
    """``"12 of 14 targets met"`` (informational rows are not counted)."""
    judged = [r for r in rows if r.passed is not None]
    return f"{sum(r.passed for r in judged)} of {len(judged)} targets met"
