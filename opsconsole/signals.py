"""News the framework sends to the apps above it, which subscribe in their ``ready()``.

``rows_updated``: ``update_rows_with_history`` wrote ``fields`` of the rows ``pks`` of
``model`` in bulk (no ``post_save`` is sent for them). Sent after the rows are written, in the
caller's transaction, so whoever copies those fields (reports' facts) can follow.

``action_run_finished``: a guarded action's run reached its final status (succeeded, failed,
refused). Sent with ``run`` (the ActionRun, saved) inside the transaction that wrote the
status, so a receiver's writes commit or roll back with it. A run marked ``reversed`` later
already finished; that change is not announced again.
"""

from django.dispatch import Signal

action_run_finished = Signal()
rows_updated = Signal()
