"""Markdown tables from bench/results/*.json (pasted into docs/benchmarks.md).

Usage: python bench/report.py
"""
from __future__ import annotations

import json
from pathlib import Path

RES = Path(__file__).resolve().parent / "results"


def _load(name):
    p = RES / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def main() -> None:
    m = _load("machine")
    if m:
        print(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; load average at start "
              f"{', '.join(f'{x:.2f}' for x in m['loadavg'])}; Python {m['python']}, numpy {m['numpy']}, "
              f"pandas {m['pandas']}, scipy {m['scipy']}; {m['R']}; {m['when']}.\n")
    st = _load("stages") or []
    if st:
        print("| --n-scale | rows in file | analysed | pairs | read | stage 1 prepare | stage 2 fit | stage 3 analyse "
              "(CPU) | re-match, caliper change (CPU) | stages 1+2+3 | matching | balance | KM ×2 | log-rank | Cox |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in st:
            if "k" not in r:
                continue
            print(f"| {r['k']} | {r['rows_in_file']} | {r['analysed']} | {r['pairs']} | {r['read_ms']:.0f} | "
                  f"{r['prepare_ms']:.0f} | {r['fit_ms']:.0f} | {r['analyse_ms']:.0f} ({r['analyse_cpu_ms']:.0f}) | "
                  f"{r['rematch_caliper_ms']:.0f} ({r['rematch_caliper_cpu_ms']:.0f}) | {r['stage123_ms']:.0f} | "
                  f"{r['matching_ms']:.1f} | {r['balance_ms']:.1f} | {r['km_ms']:.1f} | {r['logrank_ms']:.1f} | "
                  f"{r['cox_ms']:.1f} |")
        print()
    ke = _load("kernels") or []
    if ke:
        print("| kernel | ms | peak MiB (tracemalloc) | ns per n·log2 n | bytes per row |")
        print("|---|---|---|---|---|")
        for r in ke:
            if "kernel" in r:
                print(f"| {r['kernel']} | {r['ms']:.0f} | {r.get('peak_mb', '')} | {r.get('ns_per_n_log_n', '')} | "
                      f"{r.get('bytes_per_row', '')} |")
        print()
    pe = _load("peers") or []
    if pe:
        def cell(x):
            return (f"{x['wall_s']:.2f} s / {x['cpu_s']:.2f} s / {x['peak_mb']:.0f} MiB" if x.get("ok")
                    else f"n/a ({(x.get('error') or '')[:60]})")

        def median(x):
            return f"{x['median_wall_s']:.2f} s of {len(x['walls_s'])}" if x.get("ok") and "walls_s" in x else ""

        print("| --n-scale | rows in file | analysed | ours: best wall / CPU / peak RSS | ours: median wall | "
              "R (MatchIt default) | R / ours | R (mahvars = ~ps) | R mahvars / ours | psmpy (PS + matching only) "
              "| psmpy / ours |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in pe:
            if "k" not in r:
                continue
            print(f"| {r['k']} | {r['rows_in_file']} | {r['analysed']} | {cell(r['ours'])} | {median(r['ours'])} | "
                  f"{cell(r['R'])} | "
                  f"{r.get('R_over_ours', '')} | {cell(r.get('R_mahvars', {}))} | {r.get('R_mahvars_over_ours', '')} | "
                  f"{cell(r['psmpy'])} | {r.get('psmpy_over_ours', '')} |")
        print()
    pg = _load("peers_generic") or []
    if pg:
        def cell2(x):
            return (f"{x['wall_s']:.2f} s / {x['cpu_s']:.2f} s / {x['peak_mb']:.0f} MiB" if x.get("ok")
                    else f"n/a ({(x.get('error') or '')[:40]})")

        def same(r, key):
            c = r.get(key + "_vs_ours")
            if not c:
                return "", ""
            pairs = f"{'yes' if c['pairs_equal'] else 'NO'} ({r['ours_values']['pairs']:,})"
            hr = (f"{'yes' if c['hr_equal'] else 'NO'} ({r['ours_values']['hr_matched']:.6f}; "
                  f"max rel. diff {c['max_rel_diff']:.0e})")
            return pairs, hr

        def ratio(r, key):
            w, c = r.get(key + "_over_ours"), r.get(key + "_over_ours_cpu")
            return f"{w} ({c})" if w is not None else ""

        print("| patients | ours: wall / CPU / peak RSS | R (mahvars = ~ps) | **R mahvars / ours**, wall (CPU) | "
              "R (MatchIt default) | R default / ours, wall (CPU) | pairs equal (ours vs R mahvars)? | "
              "matched HR equal? | "
              "R default pairs, HR | load average before |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in pg:
            if "patients" not in r:
                continue
            pairs, hr = same(r, "R_mahvars")
            rv = r.get("R_values") or {}
            rdef = f"{rv['pairs']:,}, {rv['hr_matched']:.6f}" if rv.get("pairs") is not None else ""
            rm = ratio(r, "R_mahvars")
            print(f"| {r['patients']:,} | {cell2(r['ours'])} | {cell2(r.get('R_mahvars', {}))} | "
                  f"{f'**{rm}**' if rm else ''} | {cell2(r['R'])} | {ratio(r, 'R')} | {pairs} | "
                  f"{hr} | {rdef} | {r['load_before'][0]:.2f} |")
        print()
    ex = _load("export")
    if ex:
        print("PNG export:", json.dumps(ex))


if __name__ == "__main__":
    main()
