"""frozenseg_runtime: FrozenSeg inference over exported graphs, without torch.

    from frozenseg_runtime import Segmenter
"""

from __future__ import annotations

from typing import Any

__all__ = ["Segmenter", "SegmentationResult"]


def __getattr__(name: str) -> Any:
    """Import the API lazily so that `import frozenseg_runtime` stays light."""
    if name in __all__:
        from frozenseg_runtime import segmenter

        return getattr(segmenter, name)
    raise AttributeError(f"module 'frozenseg_runtime' has no attribute {name!r}")
