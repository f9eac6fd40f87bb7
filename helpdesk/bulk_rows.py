"""Locking, inserting and updating many rows of one model in one statement each, cheaply.

For hot paths where Django's per-query compiling costs more than the database's work: the
widget's batched send (chat/services/visitor_message_batch.py) spent most of its time building
`bulk_update`'s CASE expressions (docs/benchmarks.md). The statements here are plain SQL built
from the models' metadata, with every value passed as a parameter through the field's own
`get_db_prep_save`, so they store exactly what `save()` would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, ForeignKey, Model

M = TypeVar("M", bound=Model)
_LENGTH_RE = re.compile(r"\(\d+(?:,\s*\d+)?\)")


def _db() -> Any:
    """This thread's connection itself: `django.db.connection` is a proxy that looks it up again
    on every attribute, and the per-value calls below would do that thousands of times."""
    return connections[DEFAULT_DB_ALIAS]


def _quote(name: str | None) -> str:
    assert name  # a concrete field's column, a model's table
    return _db().ops.quote_name(name)


def _fields(model: type[Model], names: Sequence[str] | None) -> list[Field]:
    meta = model._meta
    if names is None:
        return [f for f in meta.concrete_fields if not f.primary_key]
    return [meta.get_field(name) for name in names]  # type: ignore[misc]


def rows_insert(objs: Sequence[Model]) -> None:
    """INSERT `objs` (all of one model, primary keys unset) and give each its primary key."""
    connection = _db()
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    fields = _fields(model, None)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only names from the models' metadata go into the text; every value is a parameter.
    table, columns = _quote(meta.db_table), ", ".join(_quote(f.column) for f in fields)
    values, returning = ", ".join([row] * len(objs)), _quote(meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {returning}"  # noqa: S608
    params: list[Any] = []
    for obj in objs:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall()
    # PostgreSQL returns the rows of a multi-row VALUES insert in order (bulk_create relies on
    # it too).
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def rows_update(objs: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE `names` of every object (all of one model, saved) to the values they hold."""
    connection = _db()
    if not objs or not names:
        return
    model = type(objs[0])
    meta = model._meta
    fields = _fields(model, names)
    pk = meta.pk
    assert pk is not None
    # Values arrive untyped; each is cast to its column's type without a length, because an
    # explicit cast to varchar(n) would cut a long value where the assignment refuses it.
    sets = ", ".join(
        f"{_quote(f.column)} = v.c{i}::{_LENGTH_RE.sub('', str(f.db_type(connection)))}"
        for i, f in enumerate(fields)
    )
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    columns = ", ".join(["pk", *(f"c{i}" for i in range(len(fields)))])
    table, values = _quote(meta.db_table), ", ".join([row] * len(objs))
    match = f"t.{_quote(pk.column)} = v.pk::{pk.rel_db_type(connection)}"
    sql = f"UPDATE {table} AS t SET {sets} FROM (VALUES {values}) AS v({columns}) WHERE {match}"  # noqa: S608
    params: list[Any] = []
    for obj in objs:
        params.append(obj.pk)
        for field in fields:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@lru_cache(maxsize=32)
def _locking_select(model: type[Model], related: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The SELECT … FOR UPDATE of `rows_for_update`, and how to read its rows back."""
    connection = _db()
    meta = model._meta
    tables: list[tuple[type[Model], ForeignKey | None]] = [(model, None)]
    for name in related:
        relation = meta.get_field(name)
        assert isinstance(relation, ForeignKey)
        tables.append((relation.related_model, relation))
    columns, joins, readers = [], [], []
    for n, (table_model, fk) in enumerate(tables):
        fields = list(table_model._meta.concrete_fields)
        columns += [f"t{n}.{_quote(f.column)}" for f in fields]
        if fk is not None:
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            target = _quote(fk.target_field.column)
            joins.append(
                f"{kind} {_quote(table_model._meta.db_table)} t{n} "
                f"ON t{n}.{target} = t0.{_quote(fk.column)}"
            )
        converters = [
            (i, f.get_db_converters(connection))
            for i, f in enumerate(fields)
            if f.get_db_converters(connection)
        ]
        readers.append((table_model, fk, [f.attname for f in fields], converters))
    pk = _quote(meta.pk.column if meta.pk else None)
    # Names from the models' metadata only; the ids are a parameter.
    source = f"{_quote(meta.db_table)} t0 {' '.join(joins)}"
    sql = f"SELECT {', '.join(columns)} FROM {source} WHERE t0.{pk} = ANY(%s) "  # noqa: S608
    sql += f"ORDER BY t0.{pk} FOR UPDATE OF t0"
    return sql, readers


def rows_for_update(model: type[M], pks: Sequence[int], related: tuple[str, ...] = ()) -> list[M]:
    """Lock the rows of `model` with these primary keys, in key order, and return them with the
    foreign keys named in `related` loaded (what select_for_update(of=("self",))
    .select_related(*related).filter(pk__in=pks).order_by("pk") returns, without compiling it).
    """
    connection = _db()
    if not pks:
        return []
    sql, readers = _locking_select(model, related)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(pks)])
        rows = cursor.fetchall()
    objs: list[M] = []
    for row in rows:
        start = 0
        main: Any = None
        for table_model, fk, attnames, converters in readers:
            values = list(row[start : start + len(attnames)])
            start += len(attnames)
            for i, field_converters in converters:
                for convert in field_converters:
                    values[i] = convert(values[i], None, connection)
            if fk is None:
                main = table_model.from_db(connection.alias, attnames, values)
                continue
            target = table_model._meta.pk
            is_null = values[attnames.index(target.attname)] is None if target else True
            fk.set_cached_value(
                main, None if is_null else table_model.from_db(connection.alias, attnames, values)
            )
        objs.append(main)
    return objs
