"""`tillbridge demo` as a newcomer runs it: the scripted morning at the till, shown live."""

import subprocess
import sys

from simulators.catalog import DAY_AT_THE_TILL


def test_the_demo_sells_receives_looks_up_and_prints(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tillbridge",
            "demo",
            "--interval",
            "0",
            "--scans",
            str(len(DAY_AT_THE_TILL)),
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if " till " in line]
    assert len(rows) == len(DAY_AT_THE_TILL)
    assert (
        "sale Aceite de oliva virgen extra 1 L" in rows[0] and "24→23" in rows[0] and rows[0].endswith(" 1")
    )
    assert "5000→4650" in rows[4]  # 350 g of ham from a scale label
    assert "3000→2750" in rows[5]  # 250 g of cheese from the virtual scale
    assert "unknown: not in the catalog" in rows[6]
    assert "receive Huevos camperos (12)" in rows[10] and "12→24" in rows[10]
    assert "stock below zero" in rows[-1] and "0→-1" in rows[-1]
    assert "virtual printer: 'CONTROL SHEET'" in out
    assert (tmp_path / "tillbridge.db").exists()
