"""The channel dashboard and the cohort heat map: console pages that show what
``reports.metrics`` computes, never a number of their own.

- ``display``: how a metric value reads in a cell (text, hover text, "n pending", heat colour);
- ``params``: the pages' filters (date range with presets, shape, plan) from a query string;
- ``charts``: server-side SVG with pygal (trend charts, sparklines), served as image/svg+xml;
- ``cell_filter``: the account list filter a heat-map cell links to (exactly its n accounts);
- ``views``: the pages and the chart images, for holders of ``reports.view_dashboard``.
"""
