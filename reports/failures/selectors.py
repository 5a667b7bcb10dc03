"""The top reason codes of one channel over a range: volume (accounts hit), share of the
channel's signups, time cost (volume x handling minutes, the estimate and the measured figure
side by side) and the sentence a leader would say. The rows are the constraint list's
(``reports.constraints.selectors``), restricted to the channel and ordered by volume."""

from dataclasses import replace
from datetime import date

from accounts.models import Channel
from reports.constraints.selectors import Constraint, constraint_rows
from reports.scope import channel_named


def top_failure_reasons(*, channel: str, since: date, until: date, limit: int = 5) -> list[Constraint]:
    rows = constraint_rows(since=since, until=until, channel=channel)
    return sorted(rows, key=lambda r: (-r.accounts_hit, -r.cost, r.reason_code))[:limit]


def leader_sentence(row: Constraint, *, channel_name: str) -> str:
    """ "Data import failed affects 18% of new Northwind Partners accounts and adds 22 minutes
    of staff time each." (the handling figure the cost uses: measured, else the estimate)."""
    share = "an unknown share" if row.share is None else f"{row.share:.0%}"
    return (
        f"{row.label} affects {share} of new {channel_name} accounts and adds "
        f"{row.handling_minutes:.0f} minutes of staff time each."
    )


def channel_failures(*, channel: str, since: date, until: date, limit: int = 5) -> dict:
    """The failure panel of one channel: its rows, each with its sentence."""
    found = channel_named(channel)
    rows = top_failure_reasons(channel=channel, since=since, until=until, limit=limit)
    return {
        "channel": found,
        "rows": [(row, leader_sentence(row, channel_name=found.name)) for row in rows],
    }


def leader_sentences(rows: list[Constraint]) -> dict[str, str]:
    """reason code -> the leader's sentence about the channel each reason hits most (the most
    accounts hit; ties: the higher share of the channel's signups), for the ranked list of
    every channel (the rows carry their hits and the signups per channel: nothing is read
    again but the channels' names)."""
    names = dict(Channel.objects.values_list("pk", "name"))
    sentences = {}
    for row in rows:
        signups = dict(row.signups_by_channel)
        worst = None
        for channel_id, n in row.hits_by_channel:
            key = (n, n / signups[channel_id])
            if worst is None or key > worst[0]:
                worst = (key, channel_id)
        if worst is not None:
            (_, share), channel_id = worst
            sentences[row.reason_code] = leader_sentence(
                replace(row, share=round(share, 4)), channel_name=names[channel_id]
            )
    return sentences
