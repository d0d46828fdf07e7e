"""Designing the next study: sample sizes, two-stage designs and Bayesian monitoring.

Pure functions: numbers in, typed results out. No database, no web.
"""

from pustula.design.simon import SimonDesign, SimonResult, simon_designs

__all__ = ["SimonDesign", "SimonResult", "simon_designs"]
