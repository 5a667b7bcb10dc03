"""The constraint pages of the console (issue 12), for ops leads and leadership: failure
reasons, the ranked constraint list, data quality, the cost model, the step-gap funnel, account
timelines, operational drag, and refunds and disputes. Every page is a set of tables
(``common.Table``); every table streams as CSV (``?csv=<table code>``) and every number links
to the rows behind it (``reports.rowlists``)."""
