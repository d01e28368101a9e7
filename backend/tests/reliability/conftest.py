"""Fixtures for the fault tests: throwaway PostgreSQL clusters and the API as real processes.

The clusters run on free loopback ports in temporary directories and are removed at the end;
the machine's shared server on 5432 is never touched. Without PostgreSQL binaries the tests
skip, or fail under CI=true.
"""

import os
from collections.abc import Iterator

import pytest
from testkit import processes

IN_CI = os.environ.get("CI", "").lower() == "true"


def _require_binaries() -> None:
    problem = processes.postgres_binaries_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL binaries are required under CI=true: {problem}")
        pytest.skip(problem)


@pytest.fixture
def pg_cluster() -> Iterator[object]:
    """A started throwaway cluster, migrated, removed afterwards."""
    _require_binaries()
    from spending_api.migrate import upgrade

    cluster = processes.PgCluster.create()
    try:
        cluster.start()
        upgrade(cluster.url)
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def replicated_clusters() -> Iterator[tuple[object, object]]:
    """A migrated primary and a hot-standby streaming replica of it."""
    _require_binaries()
    from spending_api.migrate import upgrade

    primary = processes.PgCluster.create(
        extra_conf="wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
    )
    replica = None
    try:
        primary.start()
        with open(primary.data_dir / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        processes.reload(primary)
        upgrade(primary.url)
        replica = processes.PgCluster.standby_of(primary)
        replica.start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()
