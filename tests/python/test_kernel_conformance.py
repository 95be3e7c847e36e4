"""jupyter_kernel_test's conformance suite against the stratbook kernel, every sample filled in,
plus the kernelspec that `stratbook install` wrote."""

import json
import unittest

import jupyter_kernel_test as jkt

import conftest


class StratbookKernelTests(jkt.KernelTests):
    @classmethod
    def setUpClass(cls):
        if conftest.install_error():
            raise RuntimeError(conftest.install_error())
        super().setUpClass()

    kernel_name = "stratbook"
    language_name = "rhai"
    file_extension = ".rhai"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'debug("to stderr")'

    completion_samples = [
        {"text": "update_disp", "matches": {"update_display"}},
        {"text": "clear_out", "matches": {"clear_output"}},
    ]
    complete_code_samples = ["1", 'print("hello, world")', "let x = 1;", "fn f(a) { a + 1 }"]
    incomplete_code_samples = ["fn f(x) {", "let s = [1, 2,", 'let s = "abc']
    invalid_code_samples = ["let = ;", "1 +* 2", "fn (x) { }"]

    code_page_something = "?display"
    code_generate_error = 'throw "boom"'
    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"a" + "b"', "result": '"ab"'},
        {"code": "[1, 2].len()", "result": "2"},
    ]
    code_display_data = [
        {"code": 'display(html("<b>x</b>"))', "mime": "text/html"},
        {"code": 'display(markdown("*x*"))', "mime": "text/markdown"},
    ]
    code_inspect_sample = "display"
    code_clear_output = "clear_output()"

    supported_history_operations = ("tail", "range", "search")
    # Matches "1 + 2" only, which test_history re-runs several times.
    code_history_pattern = "1 + ?"


def test_kernelspec_is_complete(kernelspec_dir, stratbook):
    spec = json.loads((kernelspec_dir / "kernel.json").read_text())
    assert spec["argv"] == [str(stratbook.resolve()), "kernel", "--connection-file", "{connection_file}"]
    assert spec["display_name"] == "Stratbook (Rhai)"
    assert spec["language"] == "rhai"
    assert spec["interrupt_mode"] == "message"
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (kernelspec_dir / logo).stat().st_size > 100, logo


def test_jupyter_finds_the_kernelspec(stratbook):
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("stratbook")
    assert spec.language == "rhai"


if __name__ == "__main__":
    unittest.main()
