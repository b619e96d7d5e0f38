import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: every figure in the tests renders without a screen
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
