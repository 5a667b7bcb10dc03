"""Support, a sub-domain of routing: the help desk's side of a ticket (sync both ways, CSAT),
tiers and help articles (tier 0), and tickets as backlog evidence (types, known issues,
clusters, releases, closing the loop). Laid out like an app: models, services, selectors,
helpdesk (the adapter), admin, api."""
