"""Vocabularies in: `vocabulary` (parse and check class lists), `tokenizer` (CLIP BPE, checked
against the manifest), `embedding` (template averaging, padded layout), `cache` (content-keyed)."""
