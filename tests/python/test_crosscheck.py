"""Cross-check of Stratbook's backtest engine against backtesting.py and vectorbt on the same bars
and the same signals (so only the engines differ): a long-only SMA cross with fees, and an
entry-only strategy exited by stop-loss / take-profit.

Same rules on both sides: signal at a bar's close, fill at the next bar's open, fee on each fill's
notional, stops checked inside the bar (stop first when a bar touches both).
- backtesting.py trades whole units: we run with `lot_size: 1` and prices near 100 on 1M cash.
  Its SL/TP are absolute prices given when the order is placed, so the test sets them from the
  next bar's open (the fill price), which is what our `stop_loss_pct` means.
- vectorbt: signals shifted one bar with `price=open` (next-open fills), fractional sizes, `size=inf`
  (all cash). vectorbt arms stops from the bar after the entry (we check the entry bar too, like
  backtesting.py), so the SL/TP case is compared with backtesting.py only.
Run: ~/.cache/stratbook/venv/bin/python -m pytest tests/python/test_crosscheck.py
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from crosscheck_util import make_bars, run_stratbook, sma_cross_signals

REL = 1e-9
CASH = 1_000_000.0
FEE = 0.1  # percent


def close(a, b, rel=REL):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def bt_frame(df, entry, exit_):
    f = df.set_index(pd.to_datetime(df.time, unit="s"))[["Open", "High", "Low", "Close", "Volume"]].copy()
    f["Entry"] = entry.astype(float)
    f["Exit"] = exit_.astype(float)
    f["NextOpen"] = np.concatenate([df.Open.to_numpy()[1:], [np.nan]])
    return f


def run_backtesting(df, entry, exit_, sl_pct=None, tp_pct=None):
    from backtesting import Backtest, Strategy

    class Signals(Strategy):
        def init(self):
            pass

        def next(self):
            e, x = self.data.Entry[-1] > 0, self.data.Exit[-1] > 0
            if not self.position:
                if e and not x:
                    no = self.data.NextOpen[-1]
                    if np.isnan(no):
                        return
                    kw = {}
                    if sl_pct is not None:
                        kw["sl"] = no * (1.0 - 1.0 * sl_pct / 100.0)
                    if tp_pct is not None:
                        kw["tp"] = no * (1.0 + 1.0 * tp_pct / 100.0)
                    self.buy(**kw)
            elif x and not e:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(bt_frame(df, entry, exit_), Signals, cash=CASH, commission=FEE / 100)
        return bt.run()


def test_sma_cross_matches_backtesting_py():
    df = make_bars()
    entry, exit_ = sma_cross_signals(df)
    ours = run_stratbook(df, entry, exit_, {"cash": CASH, "fee_pct": FEE, "lot_size": 1})
    st = run_backtesting(df, entry, exit_)
    tr = st["_trades"]
    assert len(ours["trades"]) == len(tr) > 20
    for o, (_, t) in zip(ours["trades"], tr.iterrows()):
        assert (o["entry_bar"], o["exit_bar"]) == (t.EntryBar, t.ExitBar)
        assert o["qty"] == t.Size
        assert close(o["entry_price"], t.EntryPrice) and close(o["exit_price"], t.ExitPrice)
        assert close(o["pnl"], t.PnL, 1e-7)
        assert close(o["pnl_pct"] / 100, t.ReturnPct, 1e-9)
    s = ours["stats"]
    assert close(s["final_equity"], st["Equity Final [$]"])
    assert close(s["total_return_pct"], st["Return [%]"], 1e-7)
    assert close(s["buy_hold_return_pct"], st["Buy & Hold Return [%]"], 1e-7)
    assert close(s["max_drawdown_pct"], -st["Max. Drawdown [%]"], 1e-7)
    assert close(s["win_rate_pct"], st["Win Rate [%]"])
    assert close(s["expectancy_pct"], st["Expectancy [%]"], 1e-7)
    assert close(s["avg_trade_pct"], st["Avg. Trade [%]"], 1e-7)
    assert close(s["best_trade_pct"], st["Best Trade [%]"], 1e-7)
    assert close(s["sqn"], st["SQN"], 1e-7)
    assert close(s["exposure_pct"], st["Exposure Time [%]"], 1e-9)


def test_stop_loss_take_profit_matches_backtesting_py():
    df = make_bars(seed=11)
    entry, _ = sma_cross_signals(df, 5, 20)
    no_exit = np.zeros(len(df), dtype=bool)
    ours = run_stratbook(
        df, entry, no_exit, {"cash": CASH, "fee_pct": FEE, "lot_size": 1, "stop_loss_pct": 3, "take_profit_pct": 6}
    )
    st = run_backtesting(df, entry, no_exit, sl_pct=3, tp_pct=6)
    tr = st["_trades"]
    assert len(ours["trades"]) == len(tr) > 10
    reasons = {o["exit_reason"] for o in ours["trades"]}
    assert reasons == {"stop_loss", "take_profit"}
    for o, (_, t) in zip(ours["trades"], tr.iterrows()):
        assert (o["entry_bar"], o["exit_bar"]) == (t.EntryBar, t.ExitBar)
        assert o["qty"] == t.Size
        assert close(o["exit_price"], t.ExitPrice)
    assert close(ours["stats"]["final_equity"], st["Equity Final [$]"])


def test_sma_cross_matches_vectorbt():
    import vectorbt as vbt

    df = make_bars(seed=3)
    entry, exit_ = sma_cross_signals(df)
    ours = run_stratbook(df, entry, exit_, {"cash": CASH, "fee_pct": FEE, "interval": "1h"})
    idx = pd.to_datetime(df.time, unit="s")
    shift = lambda a: pd.Series(np.concatenate([[False], a[:-1]]), index=idx)
    pf = vbt.Portfolio.from_signals(
        close=pd.Series(df.Close.to_numpy(), index=idx),
        entries=shift(entry),
        exits=shift(exit_),
        price=pd.Series(df.Open.to_numpy(), index=idx),
        fees=FEE / 100,
        init_cash=CASH,
        freq="1h",
    )
    rec = pf.trades.records_readable
    closed = rec[rec["Status"] == "Closed"]
    assert len(ours["trades"]) == len(closed) > 20
    for o, (_, t) in zip(ours["trades"], closed.iterrows()):
        assert close(o["qty"], t["Size"])
        assert close(o["entry_price"], t["Avg Entry Price"]) and close(o["exit_price"], t["Avg Exit Price"])
        assert close(o["pnl"], t["PnL"], 1e-7)
    value = pf.value().to_numpy()
    assert np.allclose(ours["equity"], value, rtol=REL, atol=0)
    s = ours["stats"]
    assert close(s["final_equity"], value[-1])
    assert close(s["total_return_pct"] / 100, pf.total_return(), 1e-7)
    assert close(s["sharpe"], pf.sharpe_ratio(), 1e-7)
    assert close(s["sortino"], pf.sortino_ratio(), 1e-7)
    assert close(s["max_drawdown_pct"] / 100, -pf.max_drawdown(), 1e-7)
    assert close(s["cagr_pct"] / 100, pf.annualized_return(), 1e-7)
    assert close(s["volatility_pct"] / 100, pf.annualized_volatility(), 1e-7)
    assert close(s["calmar"], pf.calmar_ratio(), 1e-7)
    assert close(s["win_rate_pct"] / 100, pf.trades.closed.win_rate(), 1e-9)
    assert close(s["profit_factor"], pf.trades.closed.profit_factor(), 1e-7)
