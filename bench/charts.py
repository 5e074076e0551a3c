"""The report's pictures (matplotlib, in the bench extra): the service/baseline ratios
against their targets, and req/s per endpoint and server. PNGs beside the report, named
after it (`RESULTS.md` -> `RESULTS-ratios.png`, `RESULTS-throughput.png`)."""

from pathlib import Path

from bench.config import SCENARIOS, TARGETS
from bench.report import Results, stat
from bench.servers import Server

COLOURS = {"service": "#2a6fdb", "baseline": "#8a8a8a", "seed": "#d98b2b", "drf": "#2e8b57"}


def draw(results: Results, servers: list[Server], report: Path) -> list[str]:
    """Write the charts for `report`; the Markdown lines that show them ([] without
    matplotlib, or without the rounds to draw)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    lines = []
    titles = {s.key: s.title for s in SCENARIOS}
    targets = [key for key in TARGETS if key in results]
    if targets:
        path = report.with_name(f"{report.stem}-ratios.png")
        ratios = [_ratio(results[key]) for key in targets]
        figure, axes = plt.subplots(figsize=(8, 0.6 * len(targets) + 1.2))
        y = range(len(targets))
        axes.barh(list(y), [r or 0 for r in ratios], color=COLOURS["service"])
        axes.scatter([TARGETS[k] for k in targets], list(y), marker="|", s=400, color="black")
        axes.set_yticks(list(y), [titles[k] for k in targets])
        axes.invert_yaxis()
        axes.set_xlabel("service / baseline req/s (| = target)")
        axes.set_xlim(0, max(1.0, *(r or 0 for r in ratios)) * 1.1)
        _save(figure, path)
        lines.append(f"![service/baseline ratios against their targets]({path.name})")
    scenarios = [s for s in SCENARIOS if s.key in results]
    if scenarios:
        path = report.with_name(f"{report.stem}-throughput.png")
        figure, axes = plt.subplots(figsize=(9, 0.5 * len(scenarios) * len(servers) / 2 + 1.5))
        height = 0.8 / len(servers)
        for n, server in enumerate(servers):
            values = [stat(results[s.key].get(server.key, []), "rps") or 0 for s in scenarios]
            positions = [i + n * height for i in range(len(scenarios))]
            colour = COLOURS.get(server.key)
            axes.barh(positions, values, height=height, label=server.label, color=colour)
        axes.set_yticks([i + 0.4 - height / 2 for i in range(len(scenarios))])
        axes.set_yticklabels([s.title for s in scenarios], fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel("req/s (median of the rounds)")
        axes.legend(loc="lower right")
        _save(figure, path)
        lines.append(f"![req/s per endpoint and server]({path.name})")
    return lines


def _ratio(runs_by_server: dict) -> float | None:
    service, baseline = (
        stat(runs_by_server["service"], "rps"),
        stat(runs_by_server["baseline"], "rps"),
    )
    return service / baseline if service is not None and baseline else None


def _save(figure: object, path: Path) -> None:
    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(path, dpi=100)  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(figure)  # type: ignore[arg-type]
