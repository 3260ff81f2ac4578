"""Queries whose SQL the ORM writes once per connection; each later run sends that SQL
again with its new values.

Django compiles a queryset's SQL every time it runs it. For the statements of a call
setup, that took more CPU than sending them and reading their rows (P5 in
docs/performance.md). A compiled query is built with the ORM as usual, with `Param`
placeholders where the values go, so its SQL, its columns and the conversion of its
values and rows stay the ORM's own, on each database the project supports:

    CALL_BY_ID = CompiledQuery(lambda: Call.objects.filter(call_id=Param("call_id")))
    call = CALL_BY_ID.first(call_id="4fe1...")

`build` may take a shape (hashable arguments that change the SQL itself, such as how
many values an IN list holds or which columns an UPDATE sets); each shape is compiled
once per connection, on first use. Reads, updates, deletes and inserts: the kinds of
statement a call setup runs.
"""

import operator
from collections.abc import Callable, Hashable
from functools import reduce
from typing import Any
from weakref import WeakKeyDictionary

from django.db import NotSupportedError, connections, router
from django.db.models import Expression, Field, Model, Q, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery
from django.db.transaction import TransactionManagementError


class Param(Expression):
    """Where a value given at each run goes. `field`: the model field whose column
    the value is compared with or stored in, for values that the database takes in
    another form (dates on SQLite, JSON); numbers and strings need none."""

    def __init__(self, name: str, field: Field | None = None, index: int | None = None):
        super().__init__(output_field=field)
        self.name = name
        self.target = field
        self.index = index  # the value is values[name][index]

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"Param({self.name!r}{index})"

    def as_sql(self, compiler, connection):
        return "%s", [self]

    def bind(self, values: dict[str, Any], connection) -> Any:
        value = values[self.name]
        if self.index is not None:
            value = value[self.index]
        if self.target is None or value is None:
            return value
        return self.target.get_db_prep_save(value, connection)


def any_of(lookup: str, name: str, count: int) -> Q:
    """`lookup` equals one of `count` values, given at each run as the sequence
    `name`: an IN list the ORM cannot take placeholders in for a foreign key."""
    if count < 1:
        raise ValueError("any_of needs at least one value")
    return reduce(
        operator.or_, (Q(**{lookup: Param(name, index=i)}) for i in range(count))
    )


class _Statement:
    """One shape of a query, compiled for one connection."""

    def __init__(self, query, using: str):
        self.compiler = query.get_compiler(using=using)
        self.sql, self.params = self.compiler.as_sql()
        self.locks = bool(getattr(query, "select_for_update", False))

    def execute(self, values: dict[str, Any]):
        connection = self.compiler.connection
        if self.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = [
            p.bind(values, connection) if isinstance(p, Param) else p
            for p in self.params
        ]
        cursor = connection.cursor()
        cursor.execute(self.sql, params)
        return cursor


class _Select(_Statement):
    def __init__(self, query, using: str, iterable: type):
        super().__init__(query, using)
        self.iterable = iterable
        compiler = self.compiler
        # What results_iter() works out again at every run: which columns need a
        # conversion (JSON, say) on the way out of the database.
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise NotSupportedError("CompiledQuery takes no composite primary keys")
        self.converters = compiler.get_converters(columns)
        if iterable is ModelIterable:
            info = compiler.klass_info
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            self.model = info["model"]
            self.own_columns = slice(start, end)
            self.init_list = [c[0].target.attname for c in compiler.select[start:end]]
            self.populators = get_related_populators(info, compiler.select, using)

    def fetch(self, values: dict[str, Any]) -> list:
        with self.execute(values) as cursor:
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.iterable is ValuesListIterable:
            return [tuple(row) for row in rows]
        if self.iterable is FlatValuesListIterable:
            return [row[0] for row in rows]
        return [self.instance(row) for row in rows]

    def instance(self, row) -> Model:
        using = self.compiler.using
        obj = self.model.from_db(using, self.init_list, row[self.own_columns])
        for populator in self.populators:
            populator.populate(row, obj)
        return obj


class _Compiled:
    """What a build function gives, by shape, and its statements by connection."""

    def __init__(self, build: Callable[..., Any]):
        self.build = build
        self.shapes: dict[tuple, tuple] = {}
        self.statements: WeakKeyDictionary = WeakKeyDictionary()

    def statement(self, shape: tuple[Hashable, ...]):
        made = self.shapes.get(shape)
        if made is None:
            made = self.shapes[shape] = self.prepare(self.build(*shape))
        query, using, *rest = made
        connection = connections[using]
        mine = self.statements.get(connection)
        if mine is None:  # only this connection's own thread writes its entry
            mine = self.statements[connection] = {}
        statement = mine.get(shape)
        if statement is None:
            statement = mine[shape] = self.compile(query.clone(), using, *rest)
        return statement


class CompiledQuery(_Compiled):
    """A read: `build(*shape)` gives a queryset of models (select_related ones are
    attached) or of `values_list()` rows, without annotations."""

    def prepare(self, queryset: QuerySet):
        iterable = queryset._iterable_class
        query = queryset.query
        if iterable not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise NotSupportedError(f"CompiledQuery cannot give {iterable.__name__}")
        if query.annotation_select or query.extra_select:
            raise NotSupportedError("CompiledQuery takes no annotations")
        return query, queryset.db, iterable

    compile = _Select

    def all(self, *, shape: tuple = (), **values) -> list:
        return self.statement(shape).fetch(values)

    def first(self, *, shape: tuple = (), **values):
        found = self.all(shape=shape, **values)
        return found[0] if found else None


class CompiledUpdate(_Compiled):
    """`build(*shape)` gives (queryset, {field name: value or Param}): an UPDATE of
    the queryset's rows. Returns the number of rows updated."""

    def prepare(self, made: tuple[QuerySet, dict[str, Any]]):
        queryset, values = made
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        return query, queryset.db

    compile = _Statement

    def run(self, *, shape: tuple = (), **values) -> int:
        with self.statement(shape).execute(values) as cursor:
            return cursor.rowcount


class CompiledDelete(CompiledUpdate):
    """`build(*shape)` gives a queryset whose rows are deleted as one statement, as
    QuerySet._raw_delete does: no signals, no cascade (for models nothing points to).
    Returns the number of rows deleted."""

    def prepare(self, queryset: QuerySet):
        query = queryset.query.clone()
        query.__class__ = DeleteQuery
        return query, queryset.db


class _Insert(_Statement):
    def __init__(self, query, using: str):
        self.compiler = query.get_compiler(using=using)
        if not self.compiler.connection.features.can_return_rows_from_bulk_insert:
            raise NotSupportedError("CompiledInsert needs INSERT ... RETURNING")
        self.compiler.returning_fields = [query.get_meta().pk]
        [(self.sql, self.params)] = self.compiler.as_sql()
        self.locks = False


class CompiledInsert(_Compiled):
    """`build(*shape)` gives (model, rows): rows as {attname: value or Param}, all
    with the same names, inserted as one statement. No signals, no field's pre_save
    (for models whose fields have none, such as auto_now). Returns the new rows'
    primary keys."""

    def prepare(self, made: tuple[type[Model], list[dict[str, Any]]]):
        model, rows = made
        fields = [model._meta.get_field(name) for name in rows[0]]
        query = InsertQuery(model)
        query.insert_values(fields, [model(**row) for row in rows])
        return query, router.db_for_write(model)

    compile = _Insert

    def run(self, *, shape: tuple = (), **values) -> list:
        with self.statement(shape).execute(values) as cursor:
            return [row[0] for row in cursor.fetchall()]
