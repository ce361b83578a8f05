"""Data sets, each returned as arrays ready to train.

- ``logic``: the report's truth tables (AND, OR, XOR, NAND, NOR, XNOR) and n-input parity.
"""

from .logic import GATES, logic_table, parity

__all__ = ["GATES", "logic_table", "parity"]
