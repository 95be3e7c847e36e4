"""`%ai` through a real Jupyter client against the mock Anthropic server (the `mock-llm` binary):
the model's cell arrives as the execute_reply's set_next_input payload (not run), its explanation
as a Markdown display; a broken cell is repaired from its error; what the model was sent; the key
in no message."""

import json
import os
import pathlib
import subprocess
import tempfile
import urllib.request

import pytest
from jupyter_client.manager import KernelManager

from conftest import ROOT

KEY = "sk-ant-mock-5e8c1f-do-not-leak"


def mock_llm_bin() -> pathlib.Path:
    if os.environ.get("MOCK_LLM_BIN"):
        return pathlib.Path(os.environ["MOCK_LLM_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return pathlib.Path(target) / "debug" / "mock-llm"


@pytest.fixture()
def mock_llm():
    binary = mock_llm_bin()
    if not binary.exists():
        pytest.fail(f"mock-llm not found at {binary}; run `cargo build -p stratbook-tests` or set MOCK_LLM_BIN")
    proc = subprocess.Popen([str(binary), "--key", KEY], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    yield url
    proc.kill()
    proc.wait()


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()


def recorded(url):
    return json.loads(urllib.request.urlopen(url + "/_mock/requests").read())


def run(kc, code):
    outputs = []
    reply = kc.execute_interactive(code, output_hook=outputs.append, timeout=120)
    return reply, outputs


GOOD = ("An SMA cross on the PEPE bars.\n\n```rhai\nlet r = backtest(pepe, std::strategies::sma_cross(pepe, 10, 30),"
        " #{ save: false });\nr\n```\n")
BROKEN = "```rhai\nlet r = backtest(pepe, std::strategies::sma_crosss(pepe, 10, 30));\nr\n```"


def test_ai_offers_the_next_cell_through_set_next_input(stratbook, mock_llm):
    home = tempfile.mkdtemp(prefix="stratbook-ai-home-")
    env = dict(os.environ, STRATBOOK_HOME=home, STRATBOOK_OFFLINE="1", STRATBOOK_LLM_API_KEY=KEY,
               STRATBOOK_LLM_BASE_URL=mock_llm)
    env.pop("ANTHROPIC_API_KEY", None)
    km = KernelManager(kernel_name="stratbook")
    log = open(os.path.join(home, "kernel.log"), "w+")
    km.start_kernel(env=env, stderr=log, stdout=log)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply, _ = run(kc, 'let pepe = klines("demo:PEPE", "1h", #{ limit: 500 });')
        assert reply["content"]["status"] == "ok"
        post(mock_llm, "/_mock/replies", [{"text": BROKEN}, {"text": GOOD}])
        reply, outputs = run(kc, "%ai an sma cross on pepe")
        content = reply["content"]
        assert content["status"] == "ok", content
        nxt = [p for p in content["payload"] if p["source"] == "set_next_input"]
        assert len(nxt) == 1 and nxt[0]["replace"] is False
        assert "sma_cross(pepe, 10, 30)" in nxt[0]["text"]
        md = [o for o in outputs if o["msg_type"] == "display_data"]
        assert md and "An SMA cross" in md[0]["content"]["data"]["text/markdown"]
        # The cell was offered, not run.
        reply, _ = run(kc, "r")
        assert reply["content"]["status"] == "error"
        # Running the offered cell shows the tear sheet.
        reply, outputs = run(kc, nxt[0]["text"])
        assert reply["content"]["status"] == "ok"
        assert any(o["msg_type"] in ("display_data", "execute_result") for o in outputs)
        sent = recorded(mock_llm)
        assert len(sent) == 2
        first = sent[0]["body"] if "body" in sent[0] else sent[0]
        assert "### sma" in first["system"]
        assert "- pepe: Bars = 500 bars of demo:PEPE at 1h" in first["messages"][-1]["content"]
        second = sent[1]["body"] if "body" in sent[1] else sent[1]
        assert "sma_crosss" in second["messages"][-1]["content"]
        every = json.dumps(outputs, default=str) + json.dumps(content, default=str)
        assert KEY not in every
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        log.seek(0)
        assert KEY not in log.read()
        log.close()


def test_stratbook_ai_writes_an_executed_notebook(stratbook, mock_llm, tmp_path):
    post(mock_llm, "/_mock/replies", [{"text": GOOD.replace("pepe", "b").replace(
        "let r = ", 'let b = klines("demo:PEPE", "1h", #{ limit: 500 });\nlet r = ')}])
    out = tmp_path / "ai.ipynb"
    env = dict(os.environ, STRATBOOK_HOME=str(tmp_path / "home"), STRATBOOK_OFFLINE="1",
               STRATBOOK_LLM_API_KEY=KEY, STRATBOOK_LLM_BASE_URL=mock_llm)
    res = subprocess.run([str(stratbook), "ai", "an sma cross on pepe", "-o", str(out)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    nb = json.loads(out.read_text())
    md, code = nb["cells"]
    assert "an sma cross on pepe" in "".join(md["source"]) and "An SMA cross" in "".join(md["source"])
    assert "sma_cross(b, 10, 30)" in "".join(code["source"])
    assert code["execution_count"] == 1 and code["outputs"], code
    assert not [o for o in code["outputs"] if o["output_type"] == "error"]
    text = out.read_text() + res.stdout + res.stderr
    assert KEY not in text
    # No key: a clear error naming what to set, and no notebook.
    env.pop("STRATBOOK_LLM_API_KEY")
    env.pop("ANTHROPIC_API_KEY", None)
    res = subprocess.run([str(stratbook), "ai", "x", "-o", str(tmp_path / "none.ipynb")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "STRATBOOK_LLM_API_KEY" in res.stderr
    assert not (tmp_path / "none.ipynb").exists()
