"""frozenseg_reference: the faithful PyTorch FrozenSeg, split into four export units."""
