"""The grading kernel defers the setup cells' heavy imports, and honest work never notices."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import nbformat
import pytest

from trainart.grading import grade, samples, sandbox
from trainart.grading.lazy import lazy_setup

SETUP = textwrap.dedent("""\
    import numpy as np
    import torch
    import torch.nn.functional as F
    import scipy.optimize
    import torch.utils.data
    from torch.nn.utils import prune
    from scipy.stats import kstest as ks, norm

    from trainart.grading.checks import check
    """)


def test_heavy_imports_become_placeholders_and_the_rest_stays():
    out = lazy_setup(SETUP)
    assert out.splitlines()[0] == "import trainart.grading.lazy as _trainart_lazy"
    body = out.splitlines()[1:]
    assert len(body) == len(SETUP.splitlines())  # one line for one line
    assert body[0] == "import numpy as np"
    assert body[1] == "torch = _trainart_lazy.LazyModule('torch')"
    assert body[2] == "F = _trainart_lazy.LazyModule('torch.nn.functional')"
    # `import a.b` binds a, and imports a.b when first used
    assert body[3] == "scipy = _trainart_lazy.LazyModule('scipy', 'scipy.optimize')"
    assert body[4] == "torch = _trainart_lazy.LazyModule('torch', 'torch.utils.data')"
    assert body[5] == "prune = _trainart_lazy.LazyAttribute('torch.nn.utils', 'prune')"
    assert body[6] == ("ks = _trainart_lazy.LazyAttribute('scipy.stats', 'kstest'); "
                       "norm = _trainart_lazy.LazyAttribute('scipy.stats', 'norm')")
    assert body[8] == "from trainart.grading.checks import check"


@pytest.mark.parametrize("source", [
    "import numpy as np\nfrom trainart.grading.checks import check\n",  # nothing heavy
    "import torch; x = 1\n",  # shares its line
    "x = 1; import torch\n",
    "import torch, numpy\n",  # mixed: kept as written
    "from torch import *\n",
    "def f():\n    import torch\n",  # not top level
    "import torch(\n",  # not Python: left for the kernel to report
])
def test_what_is_not_a_plain_heavy_import_is_left_alone(source):
    assert lazy_setup(source) == source


def test_placeholders_import_on_first_use_and_behave_like_the_real_thing():
    program = lazy_setup(SETUP) + textwrap.dedent("""\
        import sys
        assert "torch" not in sys.modules and "scipy.stats" not in sys.modules
        t = torch.tensor([1.0, -2.0], dtype=torch.float64)
        assert "torch" in sys.modules
        assert F.relu(t).tolist() == [1.0, 0.0]
        assert isinstance(t, torch.Tensor) and torch.float64 is t.dtype
        assert callable(prune.l1_unstructured)
        assert ks(np.linspace(0.01, 0.99, 50), "uniform").pvalue > 0.9
        assert abs(norm.cdf(0.0) - 0.5) < 1e-15
        assert scipy.optimize.rosen(np.ones(3)) == 0.0
        assert torch.utils.data.TensorDataset(t)[1][0].item() == -2.0
        print("ok")
        """)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr[-2000:]


TORCH_LOSS = textwrap.dedent("""\
    def smoothed_cross_entropy(logits, targets, eps):
        z = torch.from_numpy(np.asarray(logits, dtype=np.float64))
        t = torch.from_numpy(np.asarray(targets)).long()
        return F.cross_entropy(z, t, label_smoothing=eps).item()
    """)
TORCH_GRAD = textwrap.dedent("""\
    def smoothed_cross_entropy_grad(logits, targets, eps):
        z = torch.tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
        t = torch.from_numpy(np.asarray(targets)).long()
        F.cross_entropy(z, t, label_smoothing=eps).backward()
        return z.grad.numpy()
    """)


def test_a_solution_written_with_the_setup_cells_torch_keeps_full_marks(tmp_path):
    """The student used the `torch` and `F` that the setup cell imported in Jupyter."""
    nb = samples.reference("reg_label_smoothing")
    samples.set_solution(nb, "smoothed_cross_entropy", TORCH_LOSS)
    samples.set_solution(nb, "smoothed_cross_entropy_grad", TORCH_GRAD)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "torch_user.ipynb")
    nbformat.write(samples.reference("reg_label_smoothing"), subs / "numpy_user.ipynb")
    nbformat.write(samples.student("reg_label_smoothing"), subs / "blank.ipynb")
    reports = grade.grade([subs], tmp_path / "out", grading_dir=samples.EXERCISES_DIR / "grading",
                          jobs=2, cell_timeout=15, progress=False,
                          unsafe_no_sandbox=not sandbox.available()[0])
    by = {r.student: r for r in reports}
    for student in ("torch_user", "numpy_user"):
        r = by[student]
        assert r.status == grade.GRADED and r.score == r.max_score > 0, r.messages
    assert by["blank"].score == 0
