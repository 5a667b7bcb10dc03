"""Candidate clusters on constructed tickets: error code first, then subject similarity
(pg_trgm), unlinked tickets of the last N days only; and turning one into a known issue."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from routing.models import KnownIssue, ProductNote, Queue
from routing.services import queue_access_grant
from routing.support.clusters import ticket_clusters, trigram_similarity
from routing.support.services.known_issues import known_issue_create


@pytest.fixture
def support(console_for, system):
    """A support agent who works the triage queue (where these tickets land)."""
    client = console_for("support")
    queue_access_grant(queue=Queue.objects.get(code="triage"), user=client.user, actor=system)
    return client


@pytest.fixture
def constructed(intake, make_user):
    now = timezone.now()

    def at(hours):
        return now - timedelta(hours=hours)

    made = {
        "timeout": [
            intake(
                subject="Import stuck at 90%",
                error_code="import_timeout",
                feature_area="import",
                received_at=at(5),
                via="chat",
            ),
            intake(
                subject="CSV upload never finishes",
                error_code="import_timeout",
                feature_area="import",
                received_at=at(4),
                via="email",
            ),
            intake(
                subject="Import hangs",
                error_code="import_timeout",
                feature_area="import",
                received_at=at(3),
                via="chat",
            ),
        ],
        "sso": [
            intake(subject="Cannot log in with SSO", feature_area="auth", received_at=at(6)),
            intake(subject="Can't log in with SSO anymore", feature_area="auth", received_at=at(2)),
        ],
        "lone": [intake(subject="Invoice address wrong", feature_area="auth", received_at=at(1))],
        "old": [
            intake(subject="Export is slow", error_code="export_slow", received_at=now - timedelta(days=30)),
            intake(subject="Export is slow", error_code="export_slow", received_at=now - timedelta(days=29)),
        ],
    }
    linked = [
        intake(subject="Import stuck", error_code="import_timeout", feature_area="import", received_at=at(1))
    ]
    known_issue_create(title="Old", actor=make_user("support"), tickets=linked)
    return made


@pytest.mark.django_db
def test_clusters_by_error_code_then_subject(constructed, make_user):
    clusters = ticket_clusters(make_user("ops_lead"), days=14)
    assert [sorted(c.ticket_ids) for c in clusters] == [
        sorted(t.pk for t in constructed["timeout"]),
        sorted(t.pk for t in constructed["sso"]),
    ]
    timeout = clusters[0]
    assert (timeout.size, timeout.error_code, timeout.feature_area) == (3, "import_timeout", "import")
    assert timeout.channels == {"chat": 2, "email": 1}
    # a longer window takes in the old export tickets too
    assert len(ticket_clusters(make_user("ops_lead"), days=60)) == 3


def test_python_trigrams_agree_with_pg_trgm_examples():
    # values from PostgreSQL: SELECT similarity('Cannot log in with SSO', 'Can''t log in with SSO anymore')
    assert trigram_similarity("word", "word") == 1.0
    assert trigram_similarity("abc", "xyz") == 0.0
    assert 0.3 < trigram_similarity("Cannot log in with SSO", "Can't log in with SSO anymore") < 1


@pytest.mark.django_db
def test_python_trigrams_match_postgres(constructed):
    pairs = [
        ("Cannot log in with SSO", "Can't log in with SSO anymore"),
        ("Import hangs", "Import stuck at 90%"),
    ]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert trigram_similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6)


@pytest.mark.django_db
def test_create_known_issue_from_cluster_links_them_all(constructed, support):
    page = support.get(reverse("admin:routing_knownissue_triage"))
    assert page.status_code == 200
    assert b"Import stuck at 90%" in page.content and b"Create known issue from cluster" in page.content
    cluster = page.context["clusters"][0]
    response = support.post(
        reverse("admin:routing_knownissue_triage"),
        {"cluster": cluster.key, "ticket": cluster.ticket_ids, "title": "Imports time out"},
    )
    assert response.status_code == 302
    issue = KnownIssue.objects.get(title="Imports time out")
    assert sorted(issue.links.values_list("ticket_id", flat=True)) == sorted(cluster.ticket_ids)
    assert issue.error_codes == ["import_timeout"]
    # linked now, so the cluster is gone from triage
    assert all(
        c.error_code != "import_timeout"
        for c in support.get(reverse("admin:routing_knownissue_triage")).context["clusters"]
    )


@pytest.mark.django_db
def test_a_changed_cluster_is_not_created(constructed, support):
    cluster = support.get(reverse("admin:routing_knownissue_triage")).context["clusters"][0]
    response = support.post(
        reverse("admin:routing_knownissue_triage"),
        {"cluster": cluster.key, "ticket": cluster.ticket_ids[:1], "title": "x"},
    )
    assert response.status_code == 302 and not KnownIssue.objects.filter(title="x").exists()


@pytest.mark.django_db
def test_strategy_signal_cluster_becomes_a_product_note(intake, support, activate_rules, triage_queue):
    activate_rules(
        [
            {
                "key": "signal",
                "conditions": [{"field": "feature_area", "op": "eq", "value": "pricing"}],
                "queue": triage_queue,
                "ticket_type": "strategy_signal",
            }
        ]
    )
    tickets = [
        intake(subject="We would pay for SSO on the team plan", feature_area="pricing") for _ in range(2)
    ]
    cluster = support.get(reverse("admin:routing_knownissue_triage")).context["clusters"][0]
    assert cluster.strategy_signal
    support.post(
        reverse("admin:routing_knownissue_triage"),
        {
            "cluster": cluster.key,
            "ticket": cluster.ticket_ids,
            "kind": "product_note",
            "title": "SSO on team",
            "decision": "SSO moves into the team plan in Q1",
        },
    )
    note = ProductNote.objects.get()
    assert sorted(note.tickets.values_list("pk", flat=True)) == sorted(t.pk for t in tickets)
