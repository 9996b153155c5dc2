"""Properties of the AMNet components (Sections 3-4 of the paper, Table 1, eqs. 2-7)."""
import itertools

import numpy as np
import pytest
import torch

from amnet_edu.config import CPU, PAPER, ModelConfig, get_config
from amnet_edu.model import (DeepContrast, MNet, SiameseAtrousBackbone,
                             SpotlightFiltering, build_model, cell_to_roi, receptive_field,
                             roi_to_cell, to_response_grid, xcorr_direct, xcorr_fft)


def _rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


# --- eq. (2): cross-correlation ------------------------------------------------------------

@pytest.mark.parametrize("B,C,R,T,groups", [
    (1, 190, 192, 64, (42, 60, 88)),   # the paper's sizes, the three lateral levels
    (2, 7, 37, 11, None),              # odd sizes
    (3, 5, 50, 13, (2, 3)),
    (1, 4, 31, 31, None),              # template as large as the ROI: a single cell
])
def test_fft_and_direct_xcorr_agree(B, C, R, T, groups):
    g = torch.Generator().manual_seed(B * 1000 + R)
    z = torch.randn(B, C, R, R + 3, generator=g)  # non-square ROI too
    x = torch.randn(B, C, T, T, generator=g)
    ref = xcorr_direct(z, x, groups)
    out = xcorr_fft(z, x, groups)
    n_out = 1 if groups is None else len(groups)
    assert out.shape == ref.shape == (B, n_out, R - T + 1, R + 3 - T + 1)
    assert _rel_err(out, ref) < 1e-4


@pytest.mark.parametrize("B,C,R,T,groups", [
    (2, 7, 23, 9, (3, 4)),
    (1, 6, 17, 1, None),               # 1x1 template: the reversal keeps only pixel 0
    (1, 4, 12, 12, (1, 3)),            # template as large as the ROI
])
def test_fft_xcorr_gradients_equal_direct_ones(B, C, R, T, groups):
    # The hand-written backward of the FFT correlation against autograd through conv2d.
    g = torch.Generator().manual_seed(R)
    z = torch.randn(B, C, R, R + 2, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(B, C, T, T, generator=g, dtype=torch.float64, requires_grad=True)
    out_f, out_d = xcorr_fft(z, x, groups), xcorr_direct(z, x, groups)
    w = torch.randn(out_d.shape, generator=g, dtype=torch.float64)
    gf = torch.autograd.grad(out_f, (z, x), w)
    gd = torch.autograd.grad(out_d, (z, x), w)
    for a, b in zip(gf, gd):
        assert a.shape == b.shape
        assert _rel_err(a, b) < 1e-10


def test_xcorr_matches_hand_computed_value():
    z = torch.arange(16.0).reshape(1, 1, 4, 4)
    x = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    # out[i, j] = z[i, j] - z[i+1, j+1] = -5 everywhere
    for fn in (xcorr_direct, xcorr_fft):
        out = fn(z, x)
        assert torch.allclose(out, torch.full((1, 1, 3, 3), -5.0), atol=1e-5)


def test_template_cut_at_known_offset_peaks_there():
    g = torch.Generator().manual_seed(3)
    R, T = 96, 32
    roi = torch.randn(1, 3, R, R, generator=g)
    for (i, j) in [(0, 0), (17, 40), (64, 64), (5, 60)]:
        tmpl = roi[:, :, i:i + T, j:j + T]
        out = xcorr_fft(roi, tmpl)[0, 0]
        peak = divmod(int(out.argmax()), out.shape[-1])
        assert peak == (i, j)
        # The documented mapping: cell (i, j) is the template centred at (j + T/2, i + T/2).
        x, y = cell_to_roi(i, j, T)
        assert (x, y) == (j + T / 2, i + T / 2)
        assert roi_to_cell(x, y, T) == (i, j)


def test_xcorr_rejects_bad_shapes():
    with pytest.raises(ValueError):
        xcorr_fft(torch.zeros(1, 3, 10, 10), torch.zeros(1, 4, 3, 3))
    with pytest.raises(ValueError):
        xcorr_fft(torch.zeros(1, 3, 10, 10), torch.zeros(1, 3, 11, 3))
    with pytest.raises(ValueError):
        xcorr_fft(torch.zeros(1, 3, 10, 10), torch.zeros(1, 3, 3, 3), groups=(1, 1))


# --- Table 1: the Siamese atrous backbone ----------------------------------------------------

def test_backbone_is_table_1():
    bb = SiameseAtrousBackbone(PAPER)
    got = [(c.kernel_size[0], c.out_channels, c.dilation[0], c.stride[0]) for c in bb.convs]
    assert got == [(5, 6, 1, 1), (3, 12, 2, 1), (3, 24, 3, 1), (5, 36, 1, 1), (3, 48, 2, 1), (3, 64, 3, 1)]
    assert [c.in_channels for c in bb.convs] == [3, 6, 12, 24, 36, 48]
    assert bb.level_channels == (6 + 36, 12 + 48, 24 + 64)
    # Table 1's parameter count, by hand: sum of k*k*c_in*c_out + c_out (conv6 has no bias: it
    # would cancel in the normalised correlation)
    assert sum(p.numel() for p in bb.parameters()) == 456 + 660 + 2616 + 21636 + 15600 + 27712 - 64


def test_receptive_field_by_hand():
    # 1 + (5-1)*1 + (3-1)*2 + (3-1)*3 + (5-1)*1 + (3-1)*2 + (3-1)*3 = 29
    assert receptive_field(PAPER.backbone) == 29
    # Empirically: the gradient of one output pixel reaches exactly a 29 x 29 input window.
    bb = build_model("anet", "cpu", seed=0).anet.backbone
    img = torch.rand(1, 3, 61, 61, requires_grad=True)
    feats, maps = bb(img, return_maps=True)
    maps["conv6"][0, :, 30, 30].sum().backward()
    rows = torch.nonzero(img.grad[0].abs().sum(0).sum(1)).flatten()
    cols = torch.nonzero(img.grad[0].abs().sum(0).sum(0)).flatten()
    assert (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)) == (29, 29)


def test_backbone_preserves_resolution_and_shares_weights():
    bb = SiameseAtrousBackbone(CPU)
    for s in (32, 96, 41):
        feats, maps = bb(torch.rand(2, 3, s, s), return_maps=True)
        assert feats.shape == (2, 190, s, s)
        assert [maps[f"level{i}"].shape[1] for i in (1, 2, 3)] == [42, 60, 88]
        # the levels are the lateral pairs (conv1|conv4, conv2|conv5, conv3|conv6), handed to the
        # FFT in NCHW order (contiguous: no transposing copy inside the transform)
        pairs = [torch.cat([maps[f"conv{a}"], maps[f"conv{b}"]], 1) for a, b in ((1, 4), (2, 5), (3, 6))]
        assert torch.equal(feats, torch.cat(pairs, 1)) and feats.is_contiguous()
    # Siamese: ANet has a single backbone used for template and ROI.
    anet = build_model("anet", "cpu").anet
    assert sum(isinstance(m, SiameseAtrousBackbone) for m in anet.modules()) == 1


# --- eqs. (3)-(7): MNet ---------------------------------------------------------------------

def test_contrast_module_shapes_and_shared_weights():
    dc = DeepContrast(CPU)
    assert [c.kernel_size[0] for c in dc.convs] == list(CPU.contrast_kernels)
    assert all(c.in_channels == c.out_channels == 3 and c.stride == (1, 1) for c in dc.convs)
    z = torch.rand(2, 3, 96, 96)
    assert dc(z).shape == z.shape
    # MNet filters both ROIs with the same weights: swapping them negates the difference.
    mnet = MNet(CPU)
    _, m1 = mnet(z[:1], z[1:], return_maps=True)
    _, m2 = mnet(z[1:], z[:1], return_maps=True)
    assert torch.allclose(m1["difference"], -m2["difference"], atol=1e-6)


def test_spotlight_with_ones_is_patchwise_sum_of_differences():
    cfg = CPU.replace(spotlight_channels=1)
    sf = SpotlightFiltering(cfg)
    with torch.no_grad():
        for f in sf.filters:
            f.weight.fill_(1.0)
            f.bias.zero_()
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 20, 20, generator=g), torch.rand(1, 3, 20, 20, generator=g)
    _, maps = sf(a, b, return_maps=True)
    A, B = a[0].numpy().astype(np.float64), b[0].numpy().astype(np.float64)
    for k in cfg.spotlight_kernels:
        r = k // 2
        got = maps[f"spotlight_k{k}"][0, 0].detach().numpy()
        # Eq. (5), computed independently: sum over the k x k window (zero outside) and channels.
        for (y, x) in [(0, 0), (10, 10), (19, 3), (7, 18)]:
            s = 0.0
            for c, dy, dx in itertools.product(range(3), range(-r, r + 1), range(-r, r + 1)):
                if 0 <= y + dy < 20 and 0 <= x + dx < 20:
                    s += A[c, y + dy, x + dx] - B[c, y + dy, x + dx]
            assert abs(got[y, x] - s) < 1e-4


def test_identical_rois_give_zero_difference():
    mnet = build_model("amnet", "cpu", seed=1).mnet
    z = torch.rand(2, 3, 96, 96)
    _, maps = mnet(z, z.clone(), return_maps=True)
    assert float(maps["difference"].detach().abs().max()) == 0.0
    for k in CPU.spotlight_kernels:  # before biases: bias only
        bias = mnet.spotlight.filters[CPU.spotlight_kernels.index(k)].bias.view(1, -1, 1, 1)
        assert torch.allclose(maps[f"spotlight_k{k}"], bias.expand_as(maps[f"spotlight_k{k}"]))
    # with all biases zero the whole motion response is zero
    with torch.no_grad():
        for m in mnet.modules():
            if isinstance(m, torch.nn.Conv2d) and m.bias is not None:
                m.bias.zero_()
        assert float(mnet(z, z.clone()).abs().max()) == 0.0


def test_suppression_enhancement_hand_computed():
    mnet = MNet(CPU)
    o_sf = torch.zeros(1, 1, 96, 96)
    o_sf[0, 0, 40:48, 40:48] = 1.0  # one moving blob
    o_m, maps = mnet.suppression(o_sf, return_maps=True)
    assert maps["suppression3"].shape == maps["enhancement3"].shape == (1, 1, 12, 12)
    assert o_m.shape == (1, 1, 96, 96)
    # max pools keep the blob at 1; average pools dilute it; O_M = enhancement - suppression
    assert float(maps["enhancement3"].max()) == 1.0
    assert 0 < float(maps["suppression3"].max()) < 1.0
    small = maps["motion_small"]
    assert torch.allclose(small, maps["enhancement3"] - maps["suppression3"])
    # a uniform response (camera-wide motion) is removed entirely
    flat, _ = mnet.suppression(torch.full((1, 1, 96, 96), 0.7), return_maps=True)
    assert float(flat.abs().max()) < 1e-6
    # the motion response sits where the blob is and nowhere far from it: the max-pool chain's
    # footprint of the blob (rows/cols 40-47) is cells 3-8 of the 12 x 12 map, pixels 24-71;
    # the wider average pools leave only a faint negative halo beyond it
    on_blob = float(o_m[0, 0, 44, 44])
    assert on_blob > 0.1
    assert float(o_m[0, 0, :16].abs().max()) < 0.01 * on_blob
    assert float(o_m[0, 0, :, 80:].abs().max()) < 0.01 * on_blob


# --- fusion, shapes, the grid mapping --------------------------------------------------------

def test_to_response_grid_positions():
    for T in (32, 33):
        R = 96
        # a map whose value is the x coordinate of each pixel centre
        xs = (torch.arange(R, dtype=torch.float64) + 0.5).view(1, 1, 1, R).expand(1, 1, R, R)
        grid = to_response_grid(xs, T)
        H = R - T + 1
        assert grid.shape == (1, 1, H, H)
        expect = torch.tensor([cell_to_roi(0, j, T)[0] for j in range(H)], dtype=torch.float64)
        assert torch.allclose(grid[0, 0, 0], expect)


@pytest.mark.parametrize("profile", ["cpu", "paper"])
def test_documented_shapes(profile):
    cfg = get_config(profile)
    R, T = cfg.roi_size, cfg.template_size
    assert (R, T) == ((192, 64) if profile == "paper" else (96, 32))
    for kind in ("amnet", "anet"):
        m = build_model(kind, profile, seed=0)
        z = torch.rand(2, 3, R, R)
        out, maps = m(z, torch.rand_like(z), torch.rand(2, 3, T, T), return_maps=True)
        assert out.shape == (2, 1, R - T + 1, R - T + 1) == (2, 1, cfg.response_size, cfg.response_size)
        assert bool(((out > 0) & (out < 1)).all())
        assert maps["O_A"].shape == out.shape
        if kind == "amnet":
            assert maps["O_M"].shape == (2, 1, R, R)
            assert maps["O_M_grid"].shape == out.shape


def test_gradients_reach_every_parameter():
    m = build_model("amnet", "cpu", seed=0)
    z = torch.rand(2, 3, 96, 96)
    zp = torch.roll(z, shifts=3, dims=-1)
    out = m(z, zp, torch.rand(2, 3, 32, 32))
    ((out - 0.3) ** 2).mean().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None or float(p.grad.abs().sum()) == 0.0]
    assert missing == []


def test_normalised_correlation_has_finite_gradients_on_featureless_windows():
    # ROI windows (and a template group) whose features are all zero, as ReLU features of a flat
    # region can be: the norm's square root has an infinite derivative at 0, which must not turn
    # into NaN gradients (it did: a fine-tuning run went NaN at one batch)
    from amnet_edu.model.anet import centre_template, normalise_correlation
    from amnet_edu.model.xcorr import xcorr_direct

    groups = (2, 3)
    z = torch.randn(1, 5, 12, 12)
    z[:, :, :, :6] = 0.0                       # the left half of the ROI has no features at all
    x = torch.randn(1, 5, 4, 4)
    x[:, :2] = 1.0                             # group 1 of the template is flat: centred, all 0
    z.requires_grad_(True)
    x.requires_grad_(True)
    xc = centre_template(x)
    raw = xcorr_direct(z, xc, groups)
    out = normalise_correlation(raw, z, xc, groups)
    out.sum().backward()
    assert torch.isfinite(out).all()
    assert torch.isfinite(z.grad).all() and torch.isfinite(x.grad).all()


def test_deterministic_for_a_seed():
    a, b = build_model("amnet", "cpu", seed=5), build_model("amnet", "cpu", seed=5)
    c = build_model("amnet", "cpu", seed=6)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    z = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a(z, z.flip(-1), x), b(z, z.flip(-1), x))


def test_xavier_initialisation():
    m = build_model("amnet", "paper", seed=0)
    conv = m.anet.backbone.convs[3]  # 5x5, 24 -> 36
    fan_in, fan_out = 24 * 25, 36 * 25
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    assert float(conv.weight.detach().abs().max()) <= bound
    assert float(conv.weight.detach().abs().max()) > 0.9 * bound
    assert float(conv.bias.detach().abs().max()) == 0.0


def test_bad_inputs_raise_clearly():
    m = build_model("amnet", "cpu")
    with pytest.raises(ValueError, match="z_t"):
        m(torch.rand(1, 1, 96, 96), torch.rand(1, 1, 96, 96), torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError):
        m(torch.rand(1, 3, 96, 96), torch.rand(1, 3, 90, 90), torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError):
        build_model("siamfc")
    with pytest.raises(ValueError):
        get_config("huge")
    with pytest.raises(ValueError):
        ModelConfig(template_size=64, roi_size=60)


def test_config_round_trip():
    for cfg in (CPU, PAPER):
        assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_motion_map_is_centred_on_the_motion():
    # pooled cell q lies on ROI pixel 8q: a lone response there must come back centred on it
    mnet = MNet(CPU)
    ii = torch.arange(96.0)
    for (y, x) in [(48, 48), (40, 56), (56, 40)]:  # away from the borders, where the pools see less
        o_sf = torch.zeros(1, 1, 96, 96)
        o_sf[0, 0, y, x] = 1.0
        w = mnet.suppression(o_sf)[0, 0].clamp_min(0)
        cy = float((w.sum(1) * ii).sum() / w.sum())
        cx = float((w.sum(0) * ii).sum() / w.sum())
        assert abs(cy - y) < 0.6 and abs(cx - x) < 0.6, (y, x, cy, cx)


def test_standardise():
    from amnet_edu.model import standardise

    m = torch.rand(2, 1, 9, 9) * 1e-7  # tiny responses are scaled up all the same
    s = standardise(m)
    assert torch.allclose(s.mean((2, 3)), torch.zeros(2, 1), atol=1e-4)
    assert torch.allclose(s.std((2, 3), unbiased=False), torch.ones(2, 1), atol=0.05)
    assert float(standardise(torch.zeros(1, 1, 5, 5)).abs().max()) == 0.0  # no response stays 0
    # a constant map whose spread is float rounding alone (here 1 ulp at one cell) is no response
    c = torch.full((1, 1, 9, 9), 0.589)
    c[0, 0, 4, 4] = torch.nextafter(torch.tensor(0.589), torch.tensor(1.0))
    assert float(standardise(c).abs().max()) == 0.0
    # a small real spread on a large offset is still a response
    r = 1000.0 + torch.rand(1, 1, 9, 9)
    assert torch.allclose(standardise(r).std((2, 3), unbiased=False), torch.ones(1, 1), atol=1e-3)


def test_flat_rois_give_no_motion_and_finite_logits():
    # Identical flat-coloured ROIs through the shipped AMNet: O_M on the response grid is a
    # constant plus float rounding (~1e-7 of its value); the fused output must not turn that
    # rounding into a huge motion response (such samples spiked the stage-2 training loss).
    from amnet_edu.checkpoint import load_checkpoint, pretrained_path
    from amnet_edu.model.amnet import to_response_grid

    model = load_checkpoint(pretrained_path("amnet")).eval()
    T, R = model.cfg.template_size, model.cfg.roi_size
    z = torch.full((1, 3, R, R), 0.3)
    x = torch.rand(1, 3, T, T, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, maps = model(z, z.clone(), x, return_maps=True, logits=True)
    raw = to_response_grid(maps["O_M"], T)
    if float(raw.std()) == 0:
        pytest.skip("this CPU's rounding leaves the flat map exactly constant")
    assert float(raw.std()) < 1e-5 * float(raw.mean().abs())   # rounding only: the case at issue
    assert float(maps["O_M_grid"].abs().max()) == 0.0
    assert torch.allclose(logits, model.fuse.weight[0, 0] * maps["O_A"] + model.fuse.bias)


@pytest.mark.parametrize("i,j,radius", [(10, 20, 2), (0, 0, 1), (64, 63, 2), (5, 5, 0)])
def test_score_near_equals_the_full_map_around_the_cell(i, j, radius):
    # The scale search's shortcut (windows gathered, one GEMM per level) must give the cells of
    # the full normalised, fused O_A map, with the map's border clipping.
    model = build_model("anet", "cpu", seed=3)
    anet = model.anet
    g = torch.Generator().manual_seed(i + j)
    with torch.no_grad():
        zf = anet.backbone(torch.rand(1, 3, CPU.roi_size, CPU.roi_size, generator=g))
        xf = anet.backbone(torch.rand(2, 3, CPU.template_size, CPU.template_size, generator=g))
        near = anet.score_near(zf, xf, i, j, radius)
        H = CPU.response_size
        i0, i1, j0, j1 = max(i - radius, 0), min(i + radius, H - 1), max(j - radius, 0), min(j + radius, H - 1)
        for s in range(2):
            full = anet.fuse(anet.level_maps(zf, xf[s:s + 1]))[0, 0]
            assert near.shape == (2, 1, i1 - i0 + 1, j1 - j0 + 1)
            assert torch.allclose(near[s, 0], full[i0:i1 + 1, j0:j1 + 1], atol=1e-4)


def test_motion_context_starts_as_the_identity_and_sees_its_receptive_field():
    # motion_pyramid="dilated": untrained, O_M is exactly O_SF (a branch from "none" starts where it
    # was); a read-out made non-zero sees 1 + 2 * sum(rates) pixels around each output pixel.
    from amnet_edu.config import get_config
    from amnet_edu.model.amnet import build_model
    from amnet_edu.model.context import MotionContext

    cfg = get_config("cpu").replace(motion_pyramid="dilated")
    mnet = build_model("amnet", cfg, seed=0).mnet
    z, zp = torch.rand(1, 3, 96, 96), torch.rand(1, 3, 96, 96)
    o_m, maps = mnet(z, zp, return_maps=True)
    assert torch.equal(o_m, maps["O_SF"]) and maps["context4"].shape == (1, 8, 96, 96)
    ctx = MotionContext(cfg)
    torch.nn.init.constant_(ctx.readout.weight, 1.0)
    for conv in ctx.convs:
        torch.nn.init.constant_(conv.weight, 0.1)
        torch.nn.init.constant_(conv.bias, 0.1)
    x = torch.zeros(1, 1, 96, 96, requires_grad=True)
    ctx(x)[0, 0, 48, 48].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    assert ctx.receptive_field == 31 and (rows.min().item(), rows.max().item()) == (48 - 15, 48 + 15)
    paper = get_config("paper").replace(motion_pyramid="dilated")
    assert MotionContext(paper).receptive_field == 63


def test_confidence_gate_features_by_hand_and_its_start():
    # fusion="gated": g = sigmoid(v + u1 peak + u2 psr) of O_A, one per sample; untrained
    # (u = v = 0) the gated AMNet is the ungated one with half the motion weight.
    from amnet_edu.model.amnet import build_model
    from amnet_edu.model.fusion import ConfidenceGate

    o_a = torch.tensor([[0.0, 0.0], [0.0, 4.0]]).view(1, 1, 2, 2)   # mean 1, std sqrt(3)
    f = ConfidenceGate.features(torch.cat([o_a, torch.full_like(o_a, 2.0)]))
    assert torch.allclose(f[0].flatten(), torch.tensor([4.0, 3.0 / 3 ** 0.5]))
    assert torch.equal(f[1].flatten(), torch.tensor([2.0, 0.0]))          # flat map: psr 0
    gate = ConfidenceGate()
    with torch.no_grad():
        gate.weight.copy_(torch.tensor([0.5, -1.0]))
        gate.bias.fill_(0.25)
    expected = torch.sigmoid(torch.tensor(0.25 + 0.5 * 4.0 - 3.0 / 3 ** 0.5))
    assert torch.allclose(gate(o_a).flatten(), expected.view(1))

    gated = build_model("amnet", CPU.replace(fusion="gated"), seed=0)
    plain = build_model("amnet", CPU, seed=0)
    assert sorted(gated.state_dict()) == sorted(list(plain.state_dict()) + ["gate.bias", "gate.weight"])
    plain.load_state_dict({k: v for k, v in gated.state_dict().items() if not k.startswith("gate.")})
    with torch.no_grad():
        plain.fuse.weight[0, 1] *= 0.5
    z, zp, x = torch.rand(2, 3, 96, 96), torch.rand(2, 3, 96, 96), torch.rand(2, 3, 32, 32)
    out, maps = gated(z, zp, x, return_maps=True, logits=True)
    assert torch.allclose(out, plain(z, zp, x, logits=True), atol=1e-6)
    assert torch.equal(maps["gate"], torch.full((2, 1, 1, 1), 0.5))
    with pytest.raises(ValueError, match="fusion"):
        CPU.replace(fusion="product")
    assert ModelConfig.from_dict({k: v for k, v in CPU.to_dict().items() if k != "fusion"}).fusion == "paper"
    # the gate's weights are trained by the fused output's loss
    with torch.no_grad():
        gated.fuse.weight[0, 1] = 1.0
    gated(z, zp, x, logits=True).square().mean().backward()
    assert gated.gate.weight.grad.abs().min() > 0 and gated.gate.bias.grad.abs() > 0
