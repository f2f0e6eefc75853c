"""The daily lifecycle jobs at the seeded size and at ten times it, inside a transaction
that is rolled back."""

from __future__ import annotations

import time

from benchmarks.harness import CLONES, add, count_queries, say, skip

# --- 3. lifecycle jobs ----------------------------------------------------------------


class Rollback(Exception):
    pass


def clone_apps(copies: int) -> int:
    """Insert ``copies`` clones of every seeded app (same dates and states), in SQL."""
    from django.db import connection

    from catalog.models import MicroApp

    columns = [f.column for f in MicroApp._meta.concrete_fields if f.column not in ("id", "slug")]
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        for copy in range(1, copies + 1):
            cursor.execute(
                f"INSERT INTO catalog_microapp (slug, {cols}) "
                f"SELECT slug || '-c{copy}', {cols} FROM catalog_microapp "
                "WHERE slug LIKE 'seed-app-%%' AND slug NOT LIKE '%%-c%%'"
            )
        cursor.execute("ANALYZE catalog_microapp")
    return MicroApp.objects.count()


def bench_lifecycle() -> None:
    from django.db import transaction

    try:
        from lifecycle import tasks
    except ImportError:
        skip("lifecycle jobs", "lifecycle.tasks does not exist yet")
        return
    jobs = [getattr(tasks, n, None) for n in ("send_expiry_reminders", "expire_apps")]
    if not all(jobs):
        skip("lifecycle jobs", "send_expiry_reminders/expire_apps not defined yet")
        return
    from catalog.models import MicroApp

    def run_jobs():
        for job in jobs:
            job.run()

    results = []
    for copies in (0, CLONES):
        try:
            with transaction.atomic():
                n = clone_apps(copies) if copies else MicroApp.objects.count()
                say(f"lifecycle jobs over {n} apps (rolled back)")
                start = time.perf_counter()
                queries = count_queries(run_jobs)
                elapsed = (time.perf_counter() - start) * 1000
                results.append((n, elapsed, queries))
                raise Rollback
        except Rollback:
            pass
    # The rolled-back clones leave ~90k dead rows behind; without a vacuum the next run's
    # list cases and their floors would scan them.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_microapp")
    (n1, t1, q1), (n2, t2, q2) = results
    add(f"send_expiry_reminders + expire_apps, {n1} apps", t1, q1)
    add(
        f"send_expiry_reminders + expire_apps, {n2} apps",
        t2,
        q2,
        floor=f"{q1} queries at {n1}",
        target="queries flat",
        ok=q2 <= q1,
    )
