"""The describe stage (paper Section 2.1, Eq. 1-3): an ad image -> caption, faces, OCR text, regions, N_z.

Heavy models load lazily inside :class:`Describer`; importing this package stays light.
"""

from model.describe.config import DescribeConfig
from model.describe.describer import Describer
from model.describe.errors import ImageError
from model.describe.intake import LoadedImage, load_image

__all__ = ["Describer", "DescribeConfig", "ImageError", "LoadedImage", "load_image"]
