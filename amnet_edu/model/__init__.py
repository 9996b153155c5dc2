"""The AMNet network, one paper idea per module.

=================  ==========================================  ===========================
module             paper                                       class / function
=================  ==========================================  ===========================
``backbone``       Table 1, eq. (1): Siamese atrous CNN        ``SiameseAtrousBackbone``
``xcorr``          eq. (2): cross-correlation, no padding      ``xcorr_fft``, ``xcorr_direct``
``anet``           Sec. 3.1, Fig. 3: appearance stream         ``ANet``
``contrast``       eqs. (3)-(4): deep contrast maps            ``DeepContrast``
``spotlight``      eqs. (5)-(7): Spotlight Filtering           ``SpotlightFiltering``
``suppression``    Sec. 3.2: background suppression /          ``SuppressionEnhancement``
                   foreground enhancement pools
``mnet``           Sec. 3.2, Figs. 4-5: motion stream          ``MNet``
``amnet``          Sec. 3, Fig. 1: fusion; Sec. 4.3 ablation   ``AMNet``, ``ANetOnly``
=================  ==========================================  ===========================
"""
from .amnet import (AMNet, ANetOnly, MODEL_KINDS, build_model, cell_to_roi, roi_to_cell,
                    to_response_grid, xavier_init, standardise, init_fusion)
from .anet import ANet
from .backbone import SiameseAtrousBackbone, receptive_field
from .contrast import DeepContrast
from .mnet import MNet
from .spotlight import SpotlightFiltering
from .suppression import SuppressionEnhancement
from .xcorr import XCorr, xcorr_direct, xcorr_fft

__all__ = [
    "AMNet", "ANetOnly", "MODEL_KINDS", "build_model", "cell_to_roi", "roi_to_cell", "to_response_grid",
    "xavier_init", "standardise", "init_fusion", "ANet", "SiameseAtrousBackbone", "receptive_field", "DeepContrast", "MNet",
    "SpotlightFiltering", "SuppressionEnhancement", "XCorr", "xcorr_direct", "xcorr_fft",
]
