"""pytest plugin for the device check: FID/KID through generated Inception weights (prepare.py)."""
import os

from pytest_codecbench.kits.weights import Checkpoint
from pytest_codecbench.metrics import distribution

distribution.INCEPTION = Checkpoint("http://127.0.0.1:9/" + os.environ["GENERATED_INCEPTION"])
