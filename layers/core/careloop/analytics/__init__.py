"""Analytics a manager acts on (issue 14, item 6): the period's figures (summary), their tables and
CSVs (tables), the printable monthly report (report), and the statistics behind them (stats)."""

from careloop.analytics.summary import build

__all__ = ["build"]
