"""How fast the classroom app can play: model step plus drawing one frame, per month.

While playing, the app's loop does, for every month: wait the play interval, step the model,
then redraw the live components (map PNG, the SVG charts, the readout) and send them to the browser. This
script times the Python side of that loop at classroom scale and prints the months per second it
allows; the browser test (tests/test_ui_browser.py) measures the real figure in Chromium and
writes it to test-artifacts/ui_speed.txt.

    python benchmarks/bench_ui.py [--months 120] [--households 1500 2000]
"""

from __future__ import annotations

import argparse
import time

from vraem.ui.app import PLAY_INTERVAL_MS, guide_html
from vraem.ui.classroom import ClassroomModel, UISettings
from vraem.ui.render import charts_svg, map_png


def bench(households: int, months: int, scenario: str) -> dict[str, float]:
    m = ClassroomModel(UISettings(scenario=scenario, n_households=households))
    step = draw_map = draw_charts = draw_guide = 0.0
    for _ in range(months):
        t0 = time.perf_counter()
        m.step()
        t1 = time.perf_counter()
        map_png(m)
        t2 = time.perf_counter()
        charts_svg(m)
        t3 = time.perf_counter()
        guide_html(m)
        t4 = time.perf_counter()
        step += t1 - t0
        draw_map += t2 - t1
        draw_charts += t3 - t2
        draw_guide += t4 - t3
    per = {
        k: v / months * 1e3
        for k, v in {"step": step, "map": draw_map, "charts": draw_charts, "guide": draw_guide}.items()
    }
    per["frame"] = sum(per.values())
    per["months_per_s"] = 1e3 / (per["frame"] + PLAY_INTERVAL_MS)
    return per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--households", type=int, nargs="+", default=[1_500, 2_000])
    ap.add_argument("--scenario", default="integrated")
    args = ap.parse_args()
    print(f"scenario {args.scenario}, {args.months} months, play interval {PLAY_INTERVAL_MS} ms")
    print(
        f"{'households':>10} {'step':>7} {'map':>7} {'charts':>7} {'guide':>7} {'frame':>7}"
        f"  {'months/s (Python side)':>22}"
    )
    for n in args.households:
        r = bench(n, args.months, args.scenario)
        print(
            f"{n:>10,} {r['step']:>6.1f}ms {r['map']:>6.1f}ms {r['charts']:>6.1f}ms "
            f"{r['guide']:>6.1f}ms {r['frame']:>6.1f}ms  {r['months_per_s']:>22.1f}"
        )
    print("The browser adds sending and painting; tests/test_ui_browser.py measures the real rate.")


if __name__ == "__main__":
    main()
