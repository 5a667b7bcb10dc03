"""Support's writes, one module per topic; import from the submodule.

- ``updates``: the help desk's updates (replies, solved, reopened, ratings)
- ``helpdesk``: telling the help desk where a ticket went
- ``known_issues``: known issues, links, releases, closing the loop, product notes
"""
