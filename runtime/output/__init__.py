"""Results out: `postprocess` (the official semantic / panoptic / instance inference), `files`
(PNG, JSON and NPZ written atomically), `visualize` (overlays with class names)."""
