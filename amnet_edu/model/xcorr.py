"""Cross-correlation layer of ANet, eq. (2): ``O^L = Z^L (x) X^L``, no padding.

The template features ``X`` [B, C, Ht, Wt] slide over the ROI features ``Z`` [B, C, Hz, Wz];
at each offset the products are summed over channels and template pixels. The output is the
*valid* part only ("no padding added to avoid marginal localization ambiguity"):
[B, 1, Hz - Ht + 1, Wz - Wt + 1]. Cell ``(i, j)`` is the template placed with its top-left
pixel on ROI pixel ``(i, j)``, i.e. its centre at ROI position ``(j + Wt/2, i + Ht/2)`` in
continuous pixel coordinates (see ``amnet_edu.model.amnet.cell_to_roi``).

Two implementations with the same result:

* ``xcorr_direct``: one grouped ``F.conv2d`` (PyTorch's conv2d *is* cross-correlation). Kept as
  the tested reference: at the paper's sizes it costs ~13 GMAC for the three levels, seconds on a CPU.
* ``xcorr_fft``: the correlation theorem. ``corr(z, x) = IFFT(FFT(z) * conj(FFT(x)))`` computed
  circularly on an ``Hz x Wz`` grid; for offsets ``0 .. Hz - Ht`` no term wraps around, so the
  valid part is exact. The channel sum is done in the frequency domain, so only one inverse
  transform per output map is needed. Used everywhere in the model.

Both take an optional ``groups`` tuple of channel counts: the channels are split into
consecutive groups and each group is summed into its own output map, so ANet's three lateral
levels (42, 60, 88 channels) are correlated with one forward FFT of the concatenated features.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["xcorr_direct", "xcorr_fft", "template_spectrum", "xcorr_with_spectrum", "XCorr"]


def _check(z: torch.Tensor, x: torch.Tensor, groups):
    if z.dim() != 4 or x.dim() != 4:
        raise ValueError(f"expected 4-D [B, C, H, W] tensors, got {tuple(z.shape)} and {tuple(x.shape)}")
    if z.shape[:2] != x.shape[:2]:
        raise ValueError(f"batch/channels differ: ROI {tuple(z.shape)} vs template {tuple(x.shape)}")
    if x.shape[-2] > z.shape[-2] or x.shape[-1] > z.shape[-1]:
        raise ValueError(f"template {tuple(x.shape[-2:])} larger than ROI {tuple(z.shape[-2:])}")
    groups = tuple(groups) if groups is not None else (z.shape[1],)
    if sum(groups) != z.shape[1]:
        raise ValueError(f"groups {groups} do not add up to {z.shape[1]} channels")
    return groups


def xcorr_direct(z: torch.Tensor, x: torch.Tensor, groups: Sequence[int] | None = None) -> torch.Tensor:
    """Reference cross-correlation with ``F.conv2d``: [B,C,Hz,Wz] (x) [B,C,Ht,Wt] -> [B,G,Ho,Wo]."""
    groups = _check(z, x, groups)
    B, C, Hz, Wz = z.shape
    outs = []
    start = 0
    for g in groups:
        zg = z[:, start:start + g].reshape(1, B * g, Hz, Wz)
        xg = x[:, start:start + g]
        # One group per batch element: each sample is correlated with its own template.
        out = F.conv2d(zg, xg.reshape(B, g, *x.shape[-2:]), groups=B)  # [1, B, Ho, Wo]
        outs.append(out.reshape(B, 1, *out.shape[-2:]))
        start += g
    return torch.cat(outs, dim=1)


def xcorr_fft(z: torch.Tensor, x: torch.Tensor, groups: Sequence[int] | None = None) -> torch.Tensor:
    """Fourier-domain cross-correlation, same contract and result as ``xcorr_direct``."""
    groups = _check(z, x, groups)
    return _XCorrFFT.apply(z, x, groups)


class _XCorrFFT(torch.autograd.Function):
    """Eq. (2) by the correlation theorem, with a hand-written backward that reuses the spectra.

    Forward on the circular ``N = Hz x Wz`` grid: ``out[u] = sum_n z[n + u] x[n]``, valid for
    ``u <= Hz - Ht`` (no wrap-around), ``P_g = sum_{c in g} FFT(z_c) conj(FFT(x_c))``.
    Backward, with ``g`` the incoming gradient zero-padded to ``N``:
    ``dz = g (*) x`` (a convolution: ``IFFT(G X)``) and ``dx[n] = sum_u z[u + n] g[u]`` (a
    correlation of ``z`` with ``g``: ``IFFT(Z conj(G))``), both exact on the same grid for the
    same reason as the forward. The spectra of the forward are reused, so the backward costs
    one small transform of ``g`` and two inverse transforms. ``Xc = conj(FFT(x))`` is what the
    forward transforms (see ``_circular_reverse``).
    """

    @staticmethod
    def forward(ctx, z, x, groups):
        Hz, Wz = z.shape[-2:]
        Ht, Wt = x.shape[-2:]
        Zf = torch.fft.rfft2(z, s=(Hz, Wz))
        Xc = template_spectrum(x, Hz, Wz)
        out = _correlate_spectra(Zf, Xc, groups, Hz, Wz, Ht, Wt)
        if any(ctx.needs_input_grad[:2]):
            ctx.save_for_backward(Zf, Xc)
        ctx.groups, ctx.sizes = groups, (Hz, Wz, Ht, Wt)
        return out

    @staticmethod
    def backward(ctx, grad):
        Zf, Xc = ctx.saved_tensors
        Hz, Wz, Ht, Wt = ctx.sizes
        Gf = torch.fft.rfft2(grad, s=(Hz, Wz))
        dz = torch.fft.irfft2(_times_group(Gf, Xc.conj(), ctx.groups), s=(Hz, Wz)) if ctx.needs_input_grad[0] else None
        dx = (torch.fft.irfft2(_times_group(Gf.conj(), Zf, ctx.groups), s=(Hz, Wz))[..., :Ht, :Wt]
              if ctx.needs_input_grad[1] else None)
        return dz, dx, None


def _times_group(Gf: torch.Tensor, S: torch.Tensor, groups) -> torch.Tensor:
    """``out[:, c] = Gf[:, group(c)] * S[:, c]``: [B, G, ...] x [B, C, ...] -> [B, C, ...].

    Each group's map broadcast over its channels and written straight into the output, rather
    than first repeated to C channels (one [B, C, H, W/2+1] complex tensor less to write).
    """
    out = torch.empty(torch.broadcast_shapes(S.shape, (Gf.shape[0],) + S.shape[1:]),
                      dtype=torch.result_type(Gf, S), device=S.device)
    start = 0
    for g, n in enumerate(groups):
        torch.mul(Gf[:, g:g + 1], S[:, start:start + n], out=out[:, start:start + n])
        start += n
    return out


def template_spectrum(x: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """``conj(FFT(x))`` on the ``H x W`` grid of the ROI: [B, C, Ht, Wt] -> complex [B, C, H, W // 2 + 1].

    conj(FFT(x)) is the FFT of x reversed on the circular grid (x_rev[n] = x[-n mod N], real
    x): transforming the reversed template gives the conjugate spectrum directly, which spares
    materialising a conjugated copy of a [B, C, H, W/2+1] complex tensor (a memory pass as long
    as the product itself at the paper's sizes). A template that does not change (a tracker's
    anchor) needs it once: ``xcorr_with_spectrum`` reuses it.
    """
    return torch.fft.rfft2(_circular_reverse(x, H, W))


def xcorr_with_spectrum(z: torch.Tensor, Xc: torch.Tensor, template_hw, groups: Sequence[int] | None = None) -> torch.Tensor:
    """``xcorr_fft(z, x, groups)`` from the template's precomputed ``Xc = template_spectrum(x, Hz, Wz)``.

    ``z`` [B, C, Hz, Wz]; ``Xc`` [B or 1, C, Hz, Wz // 2 + 1] (one template broadcasts over a
    batch of ROIs, e.g. a scale pyramid); ``template_hw`` = ``(Ht, Wt)``. No autograd through
    ``Xc``'s making: for tracking, not training.
    """
    groups = tuple(groups) if groups is not None else (z.shape[1],)
    Hz, Wz = z.shape[-2:]
    if Xc.shape[1] != z.shape[1] or Xc.shape[-2:] != (Hz, Wz // 2 + 1):
        raise ValueError(f"template spectrum {tuple(Xc.shape)} does not fit ROI features {tuple(z.shape)}")
    if sum(groups) != z.shape[1]:
        raise ValueError(f"groups {groups} do not add up to {z.shape[1]} channels")
    return _correlate_spectra(torch.fft.rfft2(z, s=(Hz, Wz)), Xc, groups, Hz, Wz, *template_hw)


def _correlate_spectra(Zf, Xc, groups, Hz, Wz, Ht, Wt) -> torch.Tensor:
    """Valid correlation maps [B, G, Hz - Ht + 1, Wz - Wt + 1] from the ROI's and the template's spectra."""
    return torch.fft.irfft2(level_sums(Zf, Xc, groups), s=(Hz, Wz))[..., :Hz - Ht + 1, :Wz - Wt + 1]


def level_sums(Zf: torch.Tensor, Xc: torch.Tensor, groups) -> torch.Tensor:
    """``P_g = sum_{c in g} Zf_c Xc_c``: complex [B, C, H, Wf] x [B or 1, C, H, Wf] -> [B, G, H, Wf].

    One product and one channel sum per group (then one inverse FFT per output map). Summing
    each group's product straight away, rather than writing the whole [B, C, H, Wf] product and
    reducing it with a 0/1 group-membership matrix product, halves the memory passes and lets
    both steps run on all threads (``amnet-edu bench`` times it, chapter 7).
    """
    sums, start = [], 0
    for n in groups:
        sums.append((Zf[:, start:start + n] * Xc[:, start:start + n]).sum(1))
        start += n
    return torch.stack(sums, 1)


def _circular_reverse(x: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """``x`` [..., Ht, Wt] zero-padded to [..., H, W] and reversed circularly: ``out[n] = x[-n mod N]``.

    Row/column 0 stays in place and ``x[m]`` moves to ``N - m``: the template, flipped, sits in
    the last ``Ht - 1`` rows (columns) with its first row (column) at index 0.
    """
    Ht, Wt = x.shape[-2:]
    out = x.new_zeros(*x.shape[:-2], H, W)
    f = x.flip((-2, -1))                       # f[a] = x[Ht - 1 - a]
    # x[m] goes to (N - m) mod N: m = 0 -> 0, m = 1..Ht-1 -> N-1..N-Ht+1
    out[..., 0, 0] = x[..., 0, 0]
    out[..., 0, W - Wt + 1:] = f[..., -1, :-1]          # row m = 0, columns m' = Wt-1..1
    out[..., H - Ht + 1:, 0] = f[..., :-1, -1]          # column m' = 0, rows m = Ht-1..1
    out[..., H - Ht + 1:, W - Wt + 1:] = f[..., :-1, :-1]
    return out


class XCorr(torch.nn.Module):
    """Parameter-free module wrapper of eq. (2) (``method`` = ``"fft"`` or ``"direct"``)."""

    def __init__(self, groups: Sequence[int] | None = None, method: str = "fft"):
        super().__init__()
        if method not in ("fft", "direct"):
            raise ValueError(f"method must be 'fft' or 'direct', got {method!r}")
        self.groups = tuple(groups) if groups is not None else None
        self.method = method

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        fn = xcorr_fft if self.method == "fft" else xcorr_direct
        return fn(z, x, self.groups)
