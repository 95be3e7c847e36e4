"""The gallery never rots: every notebook in notebooks/ re-executes, with `stratbook run` and with
nbconvert (a real Jupyter client), to exactly the outputs committed with it.

When a change alters what a notebook shows on purpose, run tools/regen-gallery, look at the charts,
and commit the notebooks with the change.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

GALLERY = sorted((ROOT / "notebooks").glob("*.ipynb"))


# A simulation card's wall-clock run time ("| elapsed 0s |", in the HTML "| elapsed 0s</div>"): how
# long the machine took, not a result.
ELAPSED = re.compile(r" \| elapsed [0-9dhms ]+?(?= \||<)")


def normalized(nb):
    """Each code cell's outputs without what legitimately varies between runs (nothing else)."""
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        outs = []
        for o in cell.get("outputs", []):
            o = dict(o)
            o.pop("execution_count", None)
            for key in ("text", "traceback"):
                if isinstance(o.get(key), list):
                    o[key] = "".join(o[key]) if key == "text" else o[key]
            if "data" in o:
                o["data"] = {k: ELAPSED.sub("", "".join(v) if isinstance(v, list) else v) if k.startswith("text/")
                             else v for k, v in o["data"].items()}
            outs.append(o)
        cells.append(outs)
    return cells


def env_for(tmp_path):
    env = dict(os.environ)
    env["STRATBOOK_HOME"] = str(tmp_path / "home")
    env["STRATBOOK_OFFLINE"] = "1"
    env.pop("AVE_API_KEY", None)
    return env


def first_difference(want, got):
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return f"code cell {i}: committed {json.dumps(w)[:300]} … but got {json.dumps(g)[:300]} …"
    return f"{len(want)} code cells committed, {len(got)} executed"


def test_gallery_has_the_notebooks_the_issue_lists():
    names = [p.name for p in GALLERY]
    for part in ["quickstart", "ave-bot-config", "multi-timeframe", "portfolio", "parameter-sweep", "simulation", "llm-agent", "rust-indicator"]:
        assert any(part in n for n in names), f"no {part} notebook in {names}"


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_stratbook_run_reproduces_the_committed_outputs(path, tmp_path, stratbook):
    committed = json.loads(path.read_text())
    out = tmp_path / path.name
    subprocess.run([str(stratbook), "run", str(path), "-o", str(out)], check=True, env=env_for(tmp_path),
                   capture_output=True, timeout=600)
    executed = json.loads(out.read_text())
    nbformat.validate(nbformat.reads(out.read_text(), as_version=4))
    want, got = normalized(committed), normalized(executed)
    assert want == got, "outputs drifted (run tools/regen-gallery): " + first_difference(want, got)
    assert not any(o.get("output_type") == "error" for c in want for o in c), "a gallery notebook shows an error"


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_nbconvert_reproduces_the_committed_outputs(path, tmp_path, stratbook):
    out = tmp_path / "out.ipynb"
    subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", str(path), "--output-dir", str(tmp_path),
                    "--output", "out", "--ExecutePreprocessor.timeout=600"], check=True, env=env_for(tmp_path),
                   capture_output=True, timeout=900)
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    want, got = normalized(json.loads(path.read_text())), normalized(json.loads(out.read_text()))
    assert want == got, "nbconvert outputs differ from the committed ones: " + first_difference(want, got)
