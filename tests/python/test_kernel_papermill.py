"""The papermill plugin in kernel/papermill: installed, found for the stratbook kernel and for the
rhai language, and rendering Python values as Rhai literals that the kernel accepts."""

import subprocess
import sys

import pytest
from papermill.translators import papermill_translators


def translator():
    import stratbook_papermill  # noqa: F401  (papermill imports it through its entry point)

    return papermill_translators.find_translator("stratbook", "rhai")


def test_papermill_finds_the_translator_through_its_entry_point():
    # A fresh interpreter: only papermill's own import may register the translator.
    code = ("from papermill.translators import papermill_translators as t;"
            "print(t.find_translator('other-kernel', 'rhai').__name__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "RhaiTranslator"


def test_values_become_rhai_literals():
    t = translator()
    src = t.codify({"n": 12, "f": 1e300, "g": 0.5, "b": False, "s": 'a"b\\c\n', "none": None,
                    "l": [1, "x"], "d": {"k": 2}})
    assert src == (
        "// Parameters\n"
        "let n = 12;\nlet f = 1.0e300;\nlet g = 0.5;\nlet b = false;\n"
        'let s = "a\\"b\\\\c\\n";\nlet none = ();\nlet l = [1, "x"];\nlet d = #{"k": 2};\n'
    )


def test_bad_names_and_non_finite_floats_are_refused():
    t = translator()
    with pytest.raises(ValueError, match="invalid Rhai parameter name"):
        t.assign("1x", "2")
    with pytest.raises(ValueError, match="finite"):
        t.translate_float(float("nan"))


def test_the_injected_source_runs_in_the_kernel_language(tmp_path, stratbook):
    import nbformat

    src = translator().codify({"n": 12, "s": 'q"uote', "l": [1.5, None], "d": {"k": True}})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src),
                                         nbformat.v4.new_code_cell('print(`${n} ${s} ${l.len()} ${d.k}`)')])
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, str(path))
    res = subprocess.run([str(stratbook), "run", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = nbformat.read(str(path), as_version=4)
    assert out.cells[1].outputs[0].text == '12 q"uote 2 true\n'
