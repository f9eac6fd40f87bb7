"""Locking, inserting and updating many rows of one model in one statement each, cheaply.

For hot paths where Django's per-query work costs more than the database's: the widget's batched
send (chat/services/visitor_message_batch.py) spent most of its time building `bulk_update`'s
CASE expressions, then in client-side parameter quoting and in building model instances
(docs/benchmarks.md). The statements here are plain SQL built from the models' metadata, with
every value prepared by the field's own `get_db_prep_save`, so they store exactly what `save()`
would. Rows to write travel as one JSON parameter (`json_to_recordset`), so a statement's text
does not depend on how many rows it writes and the server prepares it once per connection.
Parameters are bound on the server with PostgreSQL's own `$n` placeholders (no quoting or
rewriting in Python); tables are named with the current tenant's schema (no `SET search_path`
round trip); statements can go to the server several at a time (`queries_run`) and still go
through Django's cursor wrapper, so errors are Django's and tests can count them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, ForeignKey, Model
from django.db.models.base import ModelState
from psycopg import RawCursor
from psycopg.types.json import Jsonb

M = TypeVar("M", bound=Model)
_LENGTH_RE = re.compile(r"\(\d+(?:,\s*\d+)?\)")


def _db() -> Any:
    """This thread's connection itself: `django.db.connection` is a proxy that looks it up again
    on every attribute, and the per-value calls below would do that thousands of times."""
    return connections[DEFAULT_DB_ALIAS]


class _PreparingCursor(RawCursor):
    """A RawCursor whose statements the server prepares (parses and plans) once per connection:
    Django's cursor wrapper passes `execute` no options."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        return super().execute(query, params, **{**options, "prepare": True})


def _cursor(*, prepare: bool = False) -> Any:
    """A cursor that binds parameters on the server, wrapped as Django wraps its own.

    Statements here use PostgreSQL's own `$1` placeholders (psycopg's RawCursor): Django's
    default cursor merges every parameter into the SQL text in Python, and even with server-side
    binding psycopg rewrites `%s` into `$n` by scanning the text, which for a batch of a few
    hundred values cost more than running the statement (docs/benchmarks.md).
    """
    connection = _db()
    connection.ensure_connection()
    kind = _PreparingCursor if prepare else RawCursor
    return connection._prepare_cursor(kind(connection.connection))


@dataclass(frozen=True)
class Query:
    """A statement for `queries_run`, and what to make of its rows (None: it returns none)."""

    sql: str
    params: Sequence[Any]
    read: Callable[[list[tuple]], Any] | None = list
    # A statement whose text does not depend on how many rows it handles: the server parses and
    # plans it once per connection (psycopg's prepared statements), not on every batch.
    prepare: bool = False


def queries_run(queries: Sequence[Query]) -> list[Any]:
    """Run `queries` in order in one round trip to PostgreSQL (psycopg's pipeline mode), inside
    the caller's transaction; returns each one's `read` result. If one fails, the later ones do
    not run, and its error is raised as Django's."""
    connection = _db()
    connection.ensure_connection()
    results: list[Any] = []
    with connection.wrap_database_errors, connection.connection.pipeline():
        cursors = []
        for query in queries:
            cursor = _cursor(prepare=query.prepare)
            cursor.execute(query.sql, query.params)
            cursors.append(cursor)
        for query, cursor in zip(queries, cursors, strict=True):
            results.append(None if query.read is None else query.read(cursor.fetchall()))
    return results


def _quote(name: str | None) -> str:
    assert name  # a concrete field's column, a model's table
    return _db().ops.quote_name(name)


def table_name(model: type[Model]) -> str:
    """The model's table in the current tenant's schema, named in full so that no statement
    depends on the connection's search_path (and none is sent to set it)."""
    return _table(_db().schema_name, model)


def _table(schema: str, model: type[Model]) -> str:
    return f"{_quote(schema)}.{_quote(model._meta.db_table)}"


def _fields(model: type[Model], names: Sequence[str] | None) -> list[Field]:
    meta = model._meta
    if names is None:
        return [f for f in meta.concrete_fields if not f.primary_key]
    return [meta.get_field(name) for name in names]  # type: ignore[misc]


def _column_type(field: Field) -> str:
    """The column's SQL type without a length: a value too long for varchar(n) then reaches the
    assignment to the column, which refuses it as `save()` would, instead of being cut by a
    cast."""
    return _LENGTH_RE.sub("", str(field.db_type(_db())))


def _json_value(value: Any) -> Any:
    """What json.dumps cannot write itself, written as PostgreSQL reads it back for the
    column: times in ISO 8601 (with their offset), a JSON field's value as JSON."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Jsonb):
        return value.obj
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"Cannot pass {type(value).__name__} in a batch of rows")


def _rows(objs: Sequence[Model], fields: Sequence[Field], value: Callable, pk: bool) -> str:
    """The rows as one JSON parameter: an array of objects keyed c0, c1, … (and pk), each value
    prepared by its field's own `get_db_prep_save`, as `save()` prepares it."""
    connection = _db()
    rows = []
    for obj in objs:
        row = {f"c{i}": f.get_db_prep_save(value(obj, f), connection) for i, f in enumerate(fields)}
        if pk:
            row["pk"] = obj.pk
        rows.append(row)
    return json.dumps(rows, default=_json_value, ensure_ascii=False, separators=(",", ":"))


def _recordset(fields: Sequence[Field], pk: Field | None = None) -> str:
    """`json_to_recordset($1::json) AS v(...)`: the rows of `_rows` as typed columns.

    One parameter, whatever the number of rows: the statement's text is the same for every
    batch, so the server prepares it once; and json.dumps writes the values far faster than
    binding each one (or each column as an array) through psycopg's adapters.
    """
    columns = [f"c{i} {_column_type(f)}" for i, f in enumerate(fields)]
    if pk is not None:
        columns.append(f"pk {pk.rel_db_type(_db())}")
    return f"json_to_recordset($1::json) AS v({', '.join(columns)})"


# The statements' text, per schema and model (and fields): built from the models' metadata on
# the first batch, then only looked up (building it cost ~3 % of a web process at chat load).
_STATEMENTS = 1024


@lru_cache(maxsize=_STATEMENTS)
def _insert_sql(schema: str, model: type[Model], with_pk: bool) -> tuple[str, list[Field]]:
    meta = model._meta
    fields = _fields(model, None)
    if with_pk:
        assert meta.pk is not None
        fields = [meta.pk, *fields]
    # Only names from the models' metadata go into the text; every value is in the parameter.
    columns, returning = ", ".join(_quote(f.column) for f in fields), _quote(meta.pk.column)
    values = ", ".join(f"v.c{i}" for i in range(len(fields)))
    source = _recordset(fields)
    sql = f"INSERT INTO {_table(schema, model)} ({columns}) SELECT {values} FROM {source} "  # noqa: S608
    return sql + f"RETURNING {returning}", fields


@lru_cache(maxsize=_STATEMENTS)
def _update_sql(schema: str, model: type[Model], names: tuple[str, ...]) -> tuple[str, list[Field]]:
    fields = _fields(model, names)
    pk = model._meta.pk
    assert pk is not None
    sets = ", ".join(f"{_quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
    source = _recordset(fields, pk)
    match = f"t.{_quote(pk.column)} = v.pk"
    table = _table(schema, model)
    return f"UPDATE {table} AS t SET {sets} FROM {source} WHERE {match}", fields  # noqa: S608


def insert_query(objs: Sequence[Model], *, with_pk: bool = False) -> Query:
    """The INSERT of `objs` (all of one model, primary keys unset); running it gives each
    object its primary key. `with_pk`: the objects have their keys already (drawn from the
    table's sequence), and are stored with them."""
    connection = _db()
    sql, fields = _insert_sql(connection.schema_name, type(objs[0]), with_pk)
    params = [_rows(objs, fields, lambda obj, f: f.pre_save(obj, True), pk=False)]

    def read(ids: list[tuple]) -> None:
        # PostgreSQL returns the inserted rows in the order of the recordset's rows, which is
        # the array's (bulk_create relies on the same for its unnest).
        for obj, (pk,) in zip(objs, ids, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias

    return Query(sql, params, read, prepare=True)


def update_query(objs: Sequence[Model], names: Sequence[str]) -> Query:
    """The UPDATE of `names` of every object (all of one model, saved) to the values they hold."""
    sql, fields = _update_sql(_db().schema_name, type(objs[0]), tuple(names))
    params = [_rows(objs, fields, lambda obj, f: getattr(obj, f.attname), pk=True)]
    return Query(sql, params, read=None, prepare=True)


def _instance(model: type[M], alias: str, attnames: list[str], values: list[Any]) -> M:
    """A model instance for a row, as `Model.from_db` makes it, without running `__init__`
    (which costs more than the row's query on this path). No model here has init signals.
    Fields not in `attnames` are deferred: reading one loads it, as with `.only()`."""
    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    state = obj._state = ModelState()
    state.adding = False
    state.db = alias
    return obj


@lru_cache(maxsize=_STATEMENTS)
def _select_sql(
    schema: str,
    model: type[Model],
    related: tuple[str, ...],
    only: tuple[tuple[str, ...], ...],
    through: ForeignKey | None,
    lock: bool,
) -> tuple[str, list[Any]]:
    """The SELECT (… FOR UPDATE) of `lock_query` and `select_query`, and how to read its rows
    back."""
    connection = _db()
    meta = model._meta
    tables: list[tuple[type[Model], ForeignKey | None]] = [(model, None)]
    for name in related:
        relation = meta.get_field(name)
        assert isinstance(relation, ForeignKey)
        tables.append((relation.related_model, relation))
    columns, joins, readers = [], [], []
    for n, (table_model, fk) in enumerate(tables):
        wanted = only[n] if only else ()
        fields = [
            f
            for f in table_model._meta.concrete_fields
            if not wanted or f.primary_key or f.attname in wanted
        ]
        columns += [f"t{n}.{_quote(f.column)}" for f in fields]
        if fk is not None:
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            table, target = _table(schema, table_model), _quote(fk.target_field.column)
            joins.append(f"{kind} {table} t{n} ON t{n}.{target} = t0.{_quote(fk.column)}")
        converters = [
            (i, f.get_db_converters(connection))
            for i, f in enumerate(fields)
            if f.get_db_converters(connection)
        ]
        pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
        readers.append((table_model, fk, [f.attname for f in fields], converters, pk_index))
    pk = _quote(meta.pk.column if meta.pk else None)
    keys = "$1"
    if through is not None:
        # The rows that rows of another table point to, by that table's keys.
        source_pk = _quote(through.model._meta.pk.column)
        keys = f"ARRAY(SELECT {_quote(through.column)} FROM {_table(schema, through.model)} "  # noqa: S608
        keys += f"WHERE {source_pk} = ANY($1))"
    # Names from the models' metadata only; the ids are a parameter.
    source = f"{_table(schema, model)} t0 {' '.join(joins)}"
    sql = f"SELECT {', '.join(columns)} FROM {source} WHERE t0.{pk} = ANY({keys}) "  # noqa: S608
    sql += f"ORDER BY t0.{pk}" + (" FOR UPDATE OF t0" if lock else "")
    return sql, readers


def lock_query(
    model: type[M],
    pks: Sequence[int],
    related: tuple[str, ...] = (),
    *,
    only: Mapping[str, Sequence[str]] | None = None,
    through: Any = None,
) -> Query:
    """Lock the rows of `model` with these primary keys, in key order; the result is them with
    the foreign keys named in `related` loaded (what select_for_update(of=("self",))
    .select_related(*related).filter(pk__in=pks).order_by("pk") returns, without compiling it).

    `only` limits what is read, as `.only()` does: for the model (key "") and for any relation
    named in `related`, the fields to load; the others are deferred.

    `through`, a foreign key to `model` (e.g. `Conversation.ticket.field`), makes `pks` keys of
    the foreign key's table: the rows they point to are locked, read from that table in the
    same statement (so it can follow, in one round trip, the statement that locked those).
    """
    return _rows_query(model, pks, related, only, through, lock=True)


def select_query(
    model: type[M],
    pks: Sequence[int],
    related: tuple[str, ...] = (),
    *,
    only: Mapping[str, Sequence[str]] | None = None,
) -> Query:
    """`lock_query` without the lock: the rows as instances, to read along with other
    statements in the same round trip."""
    return _rows_query(model, pks, related, only, None, lock=False)


def _rows_query(
    model: type[M],
    pks: Sequence[int],
    related: tuple[str, ...],
    only: Mapping[str, Sequence[str]] | None,
    through: Any,
    *,
    lock: bool,
) -> Query:
    connection = _db()
    wanted = tuple(tuple(only.get(name, ())) for name in ("", *related)) if only else ()
    sql, readers = _select_sql(connection.schema_name, model, related, wanted, through, lock)
    alias = connection.alias

    def read(rows: list[tuple]) -> list[M]:
        objs: list[M] = []
        for row in rows:
            start = 0
            main: Any = None
            for table_model, fk, attnames, converters, pk_index in readers:
                values = list(row[start : start + len(attnames)])
                start += len(attnames)
                for i, field_converters in converters:
                    for convert in field_converters:
                        values[i] = convert(values[i], None, connection)
                if fk is None:
                    main = _instance(table_model, alias, attnames, values)
                    continue
                related_obj = (
                    None
                    if values[pk_index] is None
                    else _instance(table_model, alias, attnames, values)
                )
                fk.set_cached_value(main, related_obj)
            objs.append(main)
        return objs

    return Query(sql, [list(pks)], read, prepare=True)
