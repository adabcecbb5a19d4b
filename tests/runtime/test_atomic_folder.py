"""`folder_atomic`: a folder is the old one or the complete new one, never half of either."""

from __future__ import annotations

from pathlib import Path

import pytest

from frozenseg_runtime.atomic import folder_atomic


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "repo"
    with folder_atomic(out) as tmp:
        (tmp / "a").write_text("1")
    assert sorted(p.name for p in out.iterdir()) == ["a"]
    with pytest.raises(RuntimeError):
        with folder_atomic(out) as tmp:
            (tmp / "b").write_text("2")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in out.iterdir()) == ["a"]  # the old one, untouched
    stale = tmp_path / ".repo.tmp-999999999"  # a killed writer's leftovers (no such process)
    stale.mkdir()
    real_rename = Path.rename

    def failing_rename(self, target):
        if self.name.startswith(".repo.tmp-"):
            raise OSError("disk full")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="disk full"):
        with folder_atomic(out) as tmp:
            (tmp / "c").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["a"]  # the old one comes back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no temporaries, stale ones gone
