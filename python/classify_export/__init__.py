"""Export fitted scikit-learn, XGBoost and LightGBM classifiers to classify artifacts.

    from classify_export import export
    export("model.joblib", "out/", registry_dir="models/")

or, from a shell, `classify-export model.joblib --out out/`. Formats are
described in the classify repository's research/FORMATS.md.
"""
__version__ = "0.1.0"

from .errors import ExportError  # noqa: E402
from .export import Result, export  # noqa: E402

__all__ = ["ExportError", "Result", "export", "__version__"]
