"""Which node groups stay in higher precision: decided by measuring, not by guessing.

Every candidate group is tried alone (the graph lowered with just that group kept high), its
error compared with the fully lowered graph's, and the groups that remove at least `min_gain`
of the error are kept. The final combination is measured again, and every figure is returned
so the manifest can show why each group was or was not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from frozenseg_runtime.progress import Say

MIN_GAIN = 0.2  # a group is kept when keeping it removes at least this share of the error


@dataclass
class SearchResult:
    """The groups kept, the nodes they hold and the measured error of every trial."""

    kept: list[str]
    nodes: list[str]
    error_lowered: float  # everything lowered but the base set
    error_final: float  # with the kept groups
    trials: dict[str, dict[str, float | int | bool]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kept_groups": self.kept, "nodes": self.nodes, "error_all_lowered": self.error_lowered,
                "error_final": self.error_final, "trials": self.trials, "min_gain": MIN_GAIN}


def choose_groups(groups: dict[str, list[str]], evaluate: Callable[[set[str]], float],
                  say: Say, label: str, base: frozenset[str] = frozenset(),
                  min_gain: float = MIN_GAIN) -> SearchResult:
    """Keep the groups whose own measured gain is at least `min_gain`.

    `evaluate(nodes)` lowers everything except `nodes` and returns the graph's error."""
    lowered = evaluate(set(base))
    say(f"{label}: everything lowered -> error {lowered:.3e}")
    trials: dict[str, dict[str, float | int | bool]] = {}
    kept: list[str] = []
    for name, nodes in groups.items():
        error = evaluate(set(base) | set(nodes))
        gain = (lowered - error) / lowered if lowered > 0 else 0.0
        keep = gain >= min_gain
        trials[name] = {"nodes": len(nodes), "error": error, "gain": gain, "kept": keep}
        say(f"{label}: keep {name} ({len(nodes)} nodes) -> error {error:.3e} "
            f"({gain:+.0%}){' kept' if keep else ''}")
        if keep:
            kept.append(name)
    chosen = set(base).union(*(groups[k] for k in kept)) if kept else set(base)
    final = evaluate(chosen) if kept else lowered
    say(f"{label}: kept {kept or 'nothing'} -> error {final:.3e}")
    return SearchResult(kept, sorted(chosen), lowered, final, trials)
