"""Every notebook (tests/notebooks/ and the gallery in notebooks/) executed three ways: nbconvert
(nbclient), papermill, and `stratbook run`; each result must be valid nbformat, and
`stratbook run` must store the same outputs as nbclient did through the kernel."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

import conftest

NOTEBOOKS = conftest.notebook_paths()
IDS = [f"{p.parent.name}/{p.name}" for p in NOTEBOOKS]
BASICS = conftest.ROOT / "tests" / "notebooks" / "basics.ipynb"
BIN_DIR = os.path.dirname(sys.executable)


def tool(name):
    """A console script of this Python environment (jupyter, papermill)."""
    return os.path.join(BIN_DIR, name)


def run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    return res


def fresh_home(tmp_path, name):
    """An environment with its own STRATBOOK_HOME, so ids the store hands out (runs, simulations)
    start afresh for each execution and the two executions compare equal."""
    env = dict(os.environ)
    env["STRATBOOK_HOME"] = str(tmp_path / name)
    return env


def load_valid(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    return nb


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def assert_executed_without_unexpected_errors(nb):
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, cell.source
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" not in tags(cell):
            assert not errors, f"{cell.source!r} failed: {errors}"


def comparable(nb):
    """Per code cell: output types, stream text (adjacent streams merged) and data, without ids."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.outputs:
            if o.output_type == "stream" and outs and outs[-1][0] == "stream" and outs[-1][1] == o.name:
                outs[-1] = ("stream", o.name, outs[-1][2] + o.text)
            elif o.output_type == "stream":
                outs.append(("stream", o.name, o.text))
            elif o.output_type == "error":
                outs.append(("error", o.ename, o.evalue))
            else:
                outs.append((o.output_type, json.dumps(o.data, sort_keys=True), json.dumps(o.metadata, sort_keys=True)))
        cells.append((cell.execution_count, outs))
    return cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nbconvert_execute_and_stratbook_run_agree(path, tmp_path, stratbook):
    out = tmp_path / "nbconvert.ipynb"
    res = run(
        [tool("jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", out, path],
        env=fresh_home(tmp_path, "home-nbconvert"),
    )
    assert res.returncode == 0, res.stderr
    via_kernel = load_valid(out)
    assert_executed_without_unexpected_errors(via_kernel)
    assert via_kernel.metadata.language_info.name == "rhai"

    ran = tmp_path / "run.ipynb"
    res = run([stratbook, "run", path, "-o", ran], env=fresh_home(tmp_path, "home-run"))
    assert res.returncode == 0, res.stderr
    headless = load_valid(ran)
    assert_executed_without_unexpected_errors(headless)
    assert headless.metadata.kernelspec.name == "stratbook"
    assert comparable(headless) == comparable(via_kernel)


def expects_errors(path):
    nb = nbformat.read(str(path), as_version=4)
    return any("raises-exception" in tags(c) for c in nb.cells)


# papermill reports any error output as a failure, even in cells tagged raises-exception.
PAPERMILL_NOTEBOOKS = [p for p in NOTEBOOKS if not expects_errors(p)]


@pytest.mark.parametrize("path", PAPERMILL_NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in PAPERMILL_NOTEBOOKS])
def test_papermill_executes(path, tmp_path, stratbook):
    out = tmp_path / "papermill.ipynb"
    # --cwd: a notebook's relative paths (07-llm-agent's cached answers) are relative to its folder,
    # where Jupyter and `stratbook run` start the kernel; papermill needs to be told.
    res = run([tool("papermill"), path, out, "--cwd", path.parent, "--log-level", "WARNING"])
    assert res.returncode == 0, res.stderr
    assert_executed_without_unexpected_errors(load_valid(out))


def stdout_of(nb, needle):
    """All stdout of the first cell whose stdout contains `needle` (a cell's prints may arrive as
    several stream outputs)."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        text = "".join(o.text for o in c.outputs if o.output_type == "stream" and o.name == "stdout")
        if needle in text:
            return text
    return ""


def test_papermill_injects_rhai_parameters(tmp_path, stratbook):
    out = tmp_path / "params.ipynb"
    res = run([tool("papermill"), BASICS, out, "-p", "fast", "12", "-p", "name", 'x "quoted"'])
    assert res.returncode == 0, res.stderr
    nb = load_valid(out)
    injected = [c for c in nb.cells if "injected-parameters" in tags(c)]
    assert len(injected) == 1
    assert injected[0].source == '// Parameters\nlet fast = 12;\nlet name = "x \\"quoted\\"";\n'
    text = stdout_of(nb, "fast = ")
    assert "fast = 12" in text and 'name = x "quoted"' in text


def test_stratbook_run_injects_parameters_like_papermill(tmp_path, stratbook):
    out = tmp_path / "params.ipynb"
    res = run([stratbook, "run", BASICS, "-o", out, "-p", "fast=12", "-p", 'name=x "quoted"'])
    assert res.returncode == 0, res.stderr
    nb = load_valid(out)
    injected = [c for c in nb.cells if "injected-parameters" in tags(c)]
    assert injected[0].source == '// Parameters\nlet fast = 12;\nlet name = "x \\"quoted\\"";\n'
    assert "fast = 12" in stdout_of(nb, "fast = ")
    # Running the result again replaces the injected cell instead of adding another.
    res = run([stratbook, "run", out, "-p", "fast=3"])
    assert res.returncode == 0, res.stderr
    nb = load_valid(out)
    assert len([c for c in nb.cells if "injected-parameters" in tags(c)]) == 1
    assert "fast = 3" in stdout_of(nb, "fast = ")


def write_nb(path, sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "stratbook", "display_name": "Stratbook (Rhai)", "language": "rhai"}
    nbformat.write(nb, str(path))


def test_stratbook_run_fails_naming_the_cell_and_line(tmp_path, stratbook):
    src = tmp_path / "bad.ipynb"
    write_nb(src, ["let a = 1;", "let b = 2;\nb * missing", "print(\"never\")"])
    out = tmp_path / "out.ipynb"
    res = run([stratbook, "run", src, "-o", out])
    assert res.returncode == 1
    assert "cell 1" in res.stderr and "line 2" in res.stderr and "missing" in res.stderr
    nb = load_valid(out)
    assert nb.cells[1].outputs[0].output_type == "error"
    assert nb.cells[2].outputs == []

    res = run([stratbook, "run", src, "-o", out, "--allow-errors"])
    assert res.returncode == 0, res.stderr
    nb = load_valid(out)
    assert nb.cells[2].outputs[0].text == "never\n"


def test_stratbook_run_timeout_interrupts_the_cell(tmp_path, stratbook):
    src = tmp_path / "slow.ipynb"
    write_nb(src, ["loop { }", "1"])
    out = tmp_path / "out.ipynb"
    res = run([stratbook, "run", src, "-o", out, "--timeout", "0.5"])
    assert res.returncode == 1
    assert "CellTimeoutError" in res.stderr
    assert load_valid(out).cells[0].outputs[0].ename == "CellTimeoutError"


def test_stratbook_run_writes_in_place_by_default(tmp_path, stratbook):
    src = tmp_path / "inplace.ipynb"
    write_nb(src, ["40 + 2"])
    res = run([stratbook, "run", src])
    assert res.returncode == 0, res.stderr
    nb = load_valid(src)
    assert nb.cells[0].outputs[0].data["text/plain"] == "42"
