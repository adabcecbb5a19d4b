"""The gather-based sampler against the official grid_sample fallback and the CUDA kernel."""

from __future__ import annotations

import numpy as np
import torch

from frozenseg_reference.deform_attn import (
    MSDeformAttn,
    bilinear_gather_sample,
    grid_sample_core,
    reference_points,
)


def _random_inputs(sizes, n=1, lq=37, m=4, d=8, p=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = sum(h * w for h, w in sizes)
    value = torch.randn(n, s, m, d, generator=g)
    # Locations spread beyond [0, 1] so that zero padding and borders are exercised.
    loc = torch.rand(n, lq, m, len(sizes), p, 2, generator=g) * 1.4 - 0.2
    weights = torch.rand(n, lq, m, len(sizes), p, generator=g)
    return value, loc, weights


def test_gather_sampler_equals_grid_sample_on_three_levels():
    sizes = [(5, 7), (10, 14), (20, 28)]
    value, loc, weights = _random_inputs(sizes, n=2)
    ours = bilinear_gather_sample(value, sizes, loc, weights)
    official = grid_sample_core(value, sizes, loc, weights)
    assert ours.shape == official.shape == (2, 37, 32)
    assert torch.allclose(ours, official, atol=2e-5), (ours - official).abs().max()


def test_gather_sampler_exact_at_pixel_centres():
    sizes = [(3, 4)]
    value = torch.arange(12, dtype=torch.float32).view(1, 12, 1, 1)
    centres = reference_points(sizes, torch.device("cpu"))[0, :, 0]  # (12, 2)
    loc = centres.view(1, 12, 1, 1, 1, 2)
    out = bilinear_gather_sample(value, sizes, loc, torch.ones(1, 12, 1, 1, 1))
    assert torch.equal(out.view(-1), torch.arange(12, dtype=torch.float32))


def _cuda_kernel_reference(value, sizes, loc_buffer, weight_buffer, lq, m, p):
    """Literal numpy transcription of `ms_deformable_im2col_gpu_kernel` for one image, walking
    the flat sampling-location / attention-weight buffers with the given number of levels."""
    levels = len(sizes)
    d = value.shape[-1]
    out = np.zeros((lq, m, d), dtype=np.float64)
    starts = np.cumsum([0] + [h * w for h, w in sizes])
    for q in range(lq):
        for head in range(m):
            ptr = (q * m + head) * levels * p
            for lvl, (h, w) in enumerate(sizes):
                for _ in range(p):
                    loc_w, loc_h = loc_buffer[2 * ptr], loc_buffer[2 * ptr + 1]
                    wgt = weight_buffer[ptr]
                    him, wim = loc_h * h - 0.5, loc_w * w - 0.5
                    if -1 < him < h and -1 < wim < w:
                        y0, x0 = int(np.floor(him)), int(np.floor(wim))
                        ly, lx = him - y0, wim - x0
                        acc = np.zeros(d)
                        for yy, xx, cw in ((y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx),
                                           (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)):
                            if 0 <= yy < h and 0 <= xx < w:
                                acc += cw * value[starts[lvl] + yy * w + xx, head]
                        out[q, head] += wgt * acc
                    ptr += 1
    return out.reshape(lq, m * d)


def test_sam_branch_reads_buffers_like_the_cuda_kernel():
    """Built for 3 levels, given 1: the kernel reads the first third of each buffer."""
    torch.manual_seed(0)
    layer = MSDeformAttn(d_model=16, n_levels=3, n_heads=2, n_points=4).eval()
    for param in layer.parameters():
        torch.nn.init.normal_(param, std=0.3)
    sizes = [(4, 5)]
    lq = 20
    query = torch.randn(1, lq, 16)
    value_in = torch.randn(1, lq, 16)
    ref = reference_points(sizes, torch.device("cpu"))
    with torch.no_grad():
        ours = layer(query, ref, value_in, sizes)
        value = layer.value_proj(value_in).view(lq, 2, 8).numpy()
        offsets = layer.sampling_offsets(query).view(1, lq, 2, 3, 4, 2)
        weights = layer.attention_weights(query).view(1, lq, 2, 12).softmax(-1)
        norm = torch.tensor([5.0, 4.0])
        locs = ref[:, :, None, :, None, :] + offsets / norm
        expected = _cuda_kernel_reference(
            value, sizes, locs.reshape(-1).numpy(), weights.reshape(-1).numpy(), lq, 2, 4
        )
        expected = layer.output_proj(torch.from_numpy(expected).float())
    assert torch.allclose(ours[0], expected, atol=1e-5), (ours[0] - expected).abs().max()
    # It is not the "all three levels on the same map" reading.
    with torch.no_grad():
        three = layer(query, ref.expand(1, lq, 3, 2), value_in.repeat(1, 3, 1), sizes * 3)
    assert not torch.allclose(ours, three, atol=1e-3)


def test_reference_points_are_pixel_centres():
    ref = reference_points([(2, 4)], torch.device("cpu"))
    assert ref.shape == (1, 8, 1, 2)
    assert torch.allclose(ref[0, :4, 0, 0], torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert torch.allclose(ref[0, ::4, 0, 1], torch.tensor([0.25, 0.75]))
