"""The graph registry is the one place per-graph facts live, and its facts hold together."""

from __future__ import annotations

from frozenseg_runtime import graphs


def test_registry_facts_are_consistent():
    assert graphs.GRAPHS == ("clip_image", "sam_image", "clip_text", "decoder")
    for name, info in graphs.REGISTRY.items():
        assert info.name == name
        assert info.mixed_precision in ("fp32", "fp16", "int8")
        assert info.parity.bar(0.0) == info.parity.relative_allowance > 0
    # graphs sharing one activation buffer must never run at the same time: distinct stages
    sharing = graphs.activation_sharing_graphs()
    stages = [graphs.REGISTRY[n].stage for n in sharing]
    assert len(stages) == len(set(stages)) and sharing == {"clip_text", "decoder"}
    # the decoder reads exactly what the encoders write plus the vocabulary tensors
    encoded = graphs.OUTPUTS["clip_image"] + graphs.OUTPUTS["sam_image"]
    assert graphs.INPUTS["decoder"][: len(encoded)] == encoded
    assert graphs.graphs_of_stage(graphs.STAGE_IMAGE) == ("clip_image", "sam_image")


def test_verification_feed_sizes_pair_images_with_vocabularies():
    decoder = graphs.REGISTRY[graphs.DECODER].verification
    assert len(decoder.image_sizes) == len(decoder.vocabulary_sizes) >= 2
    assert len({size for size in decoder.image_sizes}) == len(decoder.image_sizes)
    assert graphs.REGISTRY[graphs.CLIP_TEXT].verification.prompt_words


def test_mixed_default_is_read_from_the_registry():
    from frozenseg_export.precision.run import QuantizeOptions

    assert QuantizeOptions().mixed == graphs.mixed_default() == {
        "clip_image": "fp16", "sam_image": "int8", "clip_text": "fp16", "decoder": "fp16"}


def test_every_manifest_dtype_has_a_numpy_type():
    from frozenseg_runtime.backends.base import NUMPY_DTYPES
    from frozenseg_runtime.manifest import TENSOR_DTYPES

    assert set(NUMPY_DTYPES) == set(TENSOR_DTYPES)
