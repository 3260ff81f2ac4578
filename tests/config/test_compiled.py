"""Compiled queries (config.compiled): the ORM writes a query's SQL once per
connection and shape; each run sends it again with new values and gives what the
queryset itself would have given."""

import threading
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import NotSupportedError, connections, transaction
from django.db.models import Count
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import Call, LiveParty
from config.compiled import (
    CompiledDelete,
    CompiledInsert,
    CompiledQuery,
    CompiledUpdate,
    Param,
    any_of,
)
from tests.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db

_created = Call._meta.get_field("created_at")

CALL_BY_ID = CompiledQuery(
    lambda: Call.objects.select_related("caller", "callee").filter(
        call_id=Param("call_id")
    )
)
CALLS_SINCE = CompiledQuery(
    lambda: (
        Call.objects.filter(created_at__gte=Param("since", _created))
        .order_by("created_at")
        .values_list("call_id", flat=True)
    )
)
CALLS_OF = CompiledQuery(
    lambda count: (
        Call.objects.filter(any_of("caller_id", "callers", count))
        .order_by("created_at")
        .values_list("caller_id", "call_id")
    )
)


def test_a_compiled_query_gives_the_models_the_queryset_gives_with_their_relations():
    call = CallFactory(gone=[["dev-1", 1.5]], ringing_devices=["dev-1", "dev-2"])
    found = CALL_BY_ID.first(call_id=call.call_id)
    expected = Call.objects.select_related("caller", "callee").get(pk=call.pk)
    assert [(f.attname, getattr(found, f.attname)) for f in Call._meta.fields] == [
        (f.attname, getattr(expected, f.attname)) for f in Call._meta.fields
    ]
    assert found.gone == [["dev-1", 1.5]]  # JSON read back as Python values
    assert found.answered_at == call.answered_at  # an aware datetime
    # The people came with the row: reading them runs no query.
    with CaptureQueriesContext(connections["default"]) as queries:
        assert (found.caller.username, found.callee.username) == (
            call.caller.username,
            call.callee.username,
        )
    assert len(queries) == 0
    assert CALL_BY_ID.first(call_id="no-such-call") is None


def test_each_run_sends_the_same_sql_with_its_own_values_and_compiles_it_once(
    monkeypatch,
):
    first, second = CallFactory(), CallFactory()
    CALL_BY_ID.first(call_id=first.call_id)  # compiled here, if not before
    compiles = []
    real_as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler,
        "as_sql",
        lambda self, *a, **k: compiles.append(self) or real_as_sql(self, *a, **k),
    )
    with CaptureQueriesContext(connections["default"]) as queries:
        assert CALL_BY_ID.first(call_id=first.call_id).pk == first.pk
        assert CALL_BY_ID.first(call_id=second.call_id).pk == second.pk
    assert compiles == []
    one, two = (query["sql"] for query in queries.captured_queries)
    assert one.replace(first.call_id, "?") == two.replace(second.call_id, "?")


def test_values_are_given_to_the_database_in_their_fields_form():
    """A datetime compared with a column (SQLite keeps them as UTC text, PostgreSQL
    as timestamps): only the newer calls are found, whatever the value's zone."""
    now = timezone.now()
    old = CallFactory(created_at=now - timedelta(hours=2))
    new = CallFactory(created_at=now - timedelta(minutes=1))
    assert CALLS_SINCE.all(since=now - timedelta(hours=1)) == [new.call_id]
    assert CALLS_SINCE.all(since=now - timedelta(hours=3)) == [
        old.call_id,
        new.call_id,
    ]
    # The newer call's own time, written in UTC+5: as text it would sort after it.
    east = dt_timezone(timedelta(hours=5))
    assert CALLS_SINCE.all(since=new.created_at.astimezone(east)) == [new.call_id]


def test_any_of_matches_any_of_its_values_with_one_sql_per_count():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    a, b, c = (CallFactory(caller=person) for person in (alice, bob, carol))
    assert CALLS_OF.all(shape=(2,), callers=[alice.pk, carol.pk]) == [
        (alice.pk, a.call_id),
        (carol.pk, c.call_id),
    ]
    assert CALLS_OF.all(shape=(1,), callers=[bob.pk]) == [(bob.pk, b.call_id)]
    with pytest.raises(ValueError):
        any_of("caller_id", "callers", 0)


def test_a_locking_query_outside_a_transaction_is_refused_as_the_orm_refuses_it():
    locked = CompiledQuery(
        lambda: Call.objects.select_for_update().filter(pk=Param("pk"))
    )
    call = CallFactory()
    assert locked.first(pk=call.pk) == call  # in the test's transaction

    def lock_then_lock_outside():
        with transaction.atomic():  # compiled on this thread's connection here
            locked.first(pk=call.pk)
        locked.first(pk=call.pk)  # and run again in autocommit

    with pytest.raises(TransactionManagementError):
        _outside_any_transaction(lock_then_lock_outside)


def _outside_any_transaction(run):
    """Run `run` on a thread of its own, on its own autocommit connection."""
    failure = []

    def target():
        try:
            run()
        except Exception as error:  # handed back to the test
            failure.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def test_an_update_sets_only_the_columns_of_its_shape():
    update = CompiledUpdate(
        lambda *fields: (
            Call.objects.filter(pk=Param("pk")),
            {name: Param(name, Call._meta.get_field(name)) for name in fields},
        )
    )
    call = CallFactory(end_reason="hangup")
    when = timezone.now()
    done = update.run(
        shape=("gone", "ended_at"),
        pk=call.pk,
        gone=[["dev-9", 2.0]],
        ended_at=when,
        end_reason="ignored: not in the shape",
    )
    assert done == 1
    call.refresh_from_db()
    assert (call.gone, call.ended_at, call.end_reason) == (
        [["dev-9", 2.0]],
        when,
        "hangup",
    )
    assert update.run(shape=("end_reason",), pk=-1, end_reason="busy") == 0


def test_a_delete_removes_the_matching_rows_and_counts_them():
    delete = CompiledDelete(lambda: Call.objects.filter(caller_id=Param("caller")))
    alice, bob = UserFactory(), UserFactory()
    CallFactory(caller=alice), CallFactory(caller=alice), CallFactory(caller=bob)
    assert delete.run(caller=alice.pk) == 2
    assert list(Call.objects.values_list("caller_id", flat=True)) == [bob.pk]


def test_an_insert_writes_its_rows_in_one_statement_and_gives_their_keys():
    insert = CompiledInsert(
        lambda count: (
            LiveParty,
            [
                {"user_id": Param("users", index=i), "call_id": Param("call")}
                for i in range(count)
            ],
        )
    )
    alice, bob = UserFactory(), UserFactory()
    call = CallFactory(caller=alice, callee=bob)
    with CaptureQueriesContext(connections["default"]) as queries:
        keys = insert.run(shape=(2,), users=[alice.pk, bob.pk], call=call.pk)
    assert len(queries) == 1
    parties = LiveParty.objects.order_by("pk")
    assert [(p.pk, p.user_id, p.call_id) for p in parties] == [
        (keys[0], alice.pk, call.pk),
        (keys[1], bob.pk, call.pk),
    ]


def test_an_insert_converts_its_values_by_their_fields():
    columns = [f for f in Call._meta.concrete_fields if not f.primary_key]
    insert = CompiledInsert(
        lambda: (Call, [{f.attname: Param(f.attname, f) for f in columns}])
    )
    model = CallFactory.build(
        caller=UserFactory(), callee=UserFactory(), gone=[["dev-1", 3.5]]
    )
    [pk] = insert.run(**{f.attname: getattr(model, f.attname) for f in columns})
    stored = Call.objects.get(pk=pk)
    assert [getattr(stored, f.attname) for f in columns] == [
        getattr(model, f.attname) for f in columns
    ]


def test_each_threads_connection_has_its_own_compiled_statement():
    """The database threads (config.db_threads) each have a connection: a statement
    compiled on one is never run on another."""
    CallFactory()
    mine = CALLS_SINCE.statement(())
    theirs = []
    _outside_any_transaction(lambda: theirs.append(CALLS_SINCE.statement(())))
    assert mine is not theirs[0]
    assert mine.compiler.connection is connections["default"]
    assert theirs[0].compiler.connection is not connections["default"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Call.objects.annotate(n=Count("parties")).filter(pk=Param("pk")),
        lambda: Call.objects.filter(pk=Param("pk")).values("call_id"),
    ],
    ids=["annotated", "dicts"],
)
def test_what_it_cannot_give_like_the_queryset_is_refused(build):
    with pytest.raises(NotSupportedError):
        CompiledQuery(build).all(pk=1)
