"""Synthetic membership data with ground truth.

>>> from workbook.synth import Scenario, generate, load_dataset
>>> data = generate(Scenario.preset("gym", n_members=200), random_state=3)
>>> sorted(data.transactions["kind"].unique())
['fee', 'visit']

See :mod:`workbook.synth.generator` for the latent model and
:mod:`workbook.synth.scenario` for every parameter.
"""

from workbook.synth.data import SyntheticData, load_dataset
from workbook.synth.generator import generate
from workbook.synth.holidays import SPRING_FESTIVAL, daily_intensity
from workbook.synth.io import default_data_dir, save_dataset
from workbook.synth.scenario import ACQUISITION_CHANNELS, PRESETS, TIERS, Effects, Scenario
from workbook.synth.schema import COLUMNS, require_schema

__all__ = [
    "ACQUISITION_CHANNELS",
    "COLUMNS",
    "PRESETS",
    "SPRING_FESTIVAL",
    "TIERS",
    "Effects",
    "Scenario",
    "SyntheticData",
    "require_schema",
    "daily_intensity",
    "default_data_dir",
    "generate",
    "load_dataset",
    "save_dataset",
]
