"""The console pages accounts owns that higher layers add panels to (opsconsole/panels.py)."""

# The account page: panels get ``account``. Routing adds the account's tickets here.
ACCOUNT_PAGE = "accounts.account"
