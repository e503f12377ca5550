"""An index-aware Query for moto's DynamoDB (and a faster response writer), patched in when the
local stack starts (local mode only).

moto answers every Query by walking the whole table: `Table.query` sorts `all_items()` (every item
of the table) and then keeps the ones whose key matches, so each query of a GSI or of one
partition costs O(table log table). The local stack's work is almost all such queries (the due
index, a patient's appointments, a phone's patients, a message by provider id), so it slowed down
as its tables filled: 2,000 bookings were accepted at 8 a second and their reminders took 17
minutes to drain. DynamoDB itself reads only the matching partition.

The patch keeps moto's own query code and feeds it, instead of `all_items()`, only the items that
can pass its key check: the partition's items for a table query, and for an index query the items
whose index partition-key attribute equals the asked value, found through a posting list kept per
table (attribute -> value -> item keys), in `all_items()`'s own order. moto then does everything
else as before (the key conditions again, sorting, ExclusiveStartKey, Limit, the 1 MB page,
filters, projection), so results, ordering, pagination and filter semantics are moto's.

The posting lists follow every write moto makes: Table.put_item and Table.delete_item (which
PutItem, DeleteItem, BatchWriteItem and TransactWriteItems all reach) and the backend's
update_item (which changes an item in place). A transaction that rolls back puts back moto's copy of the
whole table (its lists copied with it), and is re-indexed; a PartiQL statement, or anything the
lists cannot hold, drops them and that table's queries take moto's own path until rebuilt.

The other cost per call that grew with the data is moto writing its JSON response: see
`_install_serializer` (the same JSON, written without walking the model for every string).
Nothing here changes what the deployed adapters do: they call DynamoDB the same way.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ATTR = "_careloop_postings"  # the Table attribute holding its posting lists
_scope: contextvars.ContextVar[tuple[Any, list] | None] = contextvars.ContextVar("careloop_moto_scope", default=None)
_state = {"installed": False, "enabled": True}
Key = tuple[Any, Any]  # (hash DynamoType, range DynamoType | None)


@dataclass
class Postings:
    """Item keys by the value of each index partition-key attribute of one table."""

    attrs: frozenset[str]
    by_value: dict[str, dict[Any, set[Key]]] = field(default_factory=dict)
    of_key: dict[Key, dict[str, Any]] = field(default_factory=dict)  # what each key is listed under

    def drop(self, key: Key) -> None:
        for attr, value in self.of_key.pop(key, {}).items():
            keys = self.by_value[attr].get(value)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_value[attr][value]

    def add(self, key: Key, item: Any) -> None:
        listed = {a: item.attrs[a] for a in self.attrs if a in item.attrs}
        for attr, value in listed.items():
            self.by_value.setdefault(attr, {}).setdefault(value, set()).add(key)  # TypeError: unhashable
        if listed:
            self.of_key[key] = listed


def _index_hash_attrs(table: Any) -> frozenset[str]:
    return frozenset(k["AttributeName"] for ix in table.all_indexes() for k in ix.schema if k["KeyType"] == "HASH")


def _stored(table: Any) -> Iterator[tuple[Key, Any]]:
    for hash_value, held in list(table.items.items()):
        if table.range_key_attr:
            for range_value, item in list(held.items()):
                yield (hash_value, range_value), item
        else:
            yield (hash_value, None), held


def _item_at(table: Any, key: Key) -> Any:
    held = table.items.get(key[0])
    if held is None or not table.range_key_attr:
        return held
    return held.get(key[1])


def postings(table: Any) -> Postings | None:
    """The table's posting lists, built on first use; None when they cannot be (moto's path then)."""
    got = getattr(table, ATTR, None)
    if got is not None:
        return got if got is not False else None
    built = Postings(_index_hash_attrs(table))
    try:
        for key, item in _stored(table):
            built.add(key, item)
    except TypeError:  # a value that cannot be a dict key (a list under an index attribute's name)
        setattr(table, ATTR, False)
        return None
    setattr(table, ATTR, built)
    return built


def invalidate(table: Any) -> None:
    """Forget the table's lists (rebuilt at its next index query): after a write they did not see."""
    if hasattr(table, "__dict__"):
        table.__dict__.pop(ATTR, None)


def reindex(table: Any, key: Key) -> None:
    """The item at `key` was written, changed or deleted: list it under its current values."""
    got = getattr(table, ATTR, None)
    if not got:  # not built yet (built from the items when first needed), or given up on
        return
    got.drop(key)
    item = _item_at(table, key)
    if item is None:
        return
    try:
        got.add(key, item)
    except TypeError:
        got.drop(key)
        setattr(table, ATTR, False)


def _moto_order(items: list) -> list:
    """`Table.all_items()`'s order (by table key), which moto's query keeps before it sorts."""
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def candidates(table: Any, hash_key: Any, index_name: str | None, hash_key_conditions: list | None) -> list | None:
    """The items moto's key check could keep, in all_items() order; None: let moto walk the table."""
    from moto.dynamodb.models.dynamo_type import Item

    if not index_name:
        if hash_key is None:
            return None
        held = table.items.get(hash_key)
        if held is None:
            return []
        found = list(held.values()) if table.range_key_attr else [held]
        return _moto_order([i for i in found if isinstance(i, Item)])
    if not hash_key_conditions:
        return None
    attr, value = hash_key_conditions[0]
    lists = postings(table)
    if lists is None or attr not in lists.attrs:
        return None
    try:
        keys = lists.by_value.get(attr, {}).get(value, ())
    except TypeError:
        return None
    found = []
    for key in keys:
        item = _item_at(table, key)
        if item is None or item.attrs.get(attr) != value:  # the lists disagree with the table: rebuild
            invalidate(table)
            return None
        found.append(item)
    return _moto_order(found)


def _install_table(table_cls: Any) -> None:
    all_items, query = table_cls.all_items, table_cls.query
    put_item, delete_item = table_cls.put_item, table_cls.delete_item

    @functools.wraps(all_items)
    def scoped_all_items(self: Any) -> list:
        scope = _scope.get()
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return all_items(self)

    @functools.wraps(query)
    def indexed_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        found = (candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
                 if _state["enabled"] else None)
        if found is None:
            return query(self, hash_key, *args, **kwargs)
        token = _scope.set((self, found))
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _scope.reset(token)

    @functools.wraps(put_item)
    def indexed_put_item(self: Any, item_attrs: dict, *args: Any, **kwargs: Any) -> Any:
        key = _key_of(self, item_attrs)
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            if key is None:
                invalidate(self)
            else:
                reindex(self, key)

    @functools.wraps(delete_item)
    def indexed_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            reindex(self, (hash_key, range_key if self.range_key_attr else None))

    table_cls.all_items, table_cls.query = scoped_all_items, indexed_query
    table_cls.put_item, table_cls.delete_item = indexed_put_item, indexed_delete_item


def _key_of(table: Any, attrs: dict) -> Key | None:
    """The table key an item's (or a Key's) attributes name, as moto's DynamoType; None if incomplete."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        hash(hash_value), hash(range_value)
    except (KeyError, TypeError, AttributeError):
        return None
    return hash_value, range_value


def _install_backend(backend_cls: Any) -> None:
    update_item, transact = backend_cls.update_item, backend_cls.transact_write_items

    @functools.wraps(update_item)
    def indexed_update_item(self: Any, table_name: str, key: dict, *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None:
                at = _key_of(table, key) if isinstance(key, dict) else None
                invalidate(table) if at is None else reindex(table, at)

    @functools.wraps(transact)
    def indexed_transact(self: Any, transact_items: list, *args: Any, **kwargs: Any) -> Any:
        backup = _backup(self, transact_items) if _state["enabled"] else None
        if backup is None:  # moto's own way: a deep copy of every table named, put back on failure
            before = dict(self.tables)
            try:
                return transact(self, transact_items, *args, **kwargs)
            finally:
                for name, table in self.tables.items():
                    if before.get(name) is not table:  # rolled back: moto's copy of the table came back
                        invalidate(table)
        token = _lean.set(True)  # moto's deepcopy of a whole table is skipped (the backup is ours)
        try:
            return transact(self, transact_items, *args, **kwargs)
        except BaseException:
            _restore(backup)
            raise
        finally:
            _lean.reset(token)

    backend_cls.update_item, backend_cls.transact_write_items = indexed_update_item, indexed_transact
    for name in ("execute_statement", "execute_transaction", "batch_execute_statement"):
        original = getattr(backend_cls, name, None)
        if original is not None:
            setattr(backend_cls, name, _dropping_all(original))


# A transaction's backup, ours instead of moto's. moto backs a TransactWriteItems up with a deep
# copy of every table it names (items, indexes, and the table's whole stream history) and puts
# the copy back if any part fails: under load that copy was most of the stack's CPU (it grows
# with everything ever written) and, as cyclic garbage, most of its memory. The backup below holds
# only what the transaction can change: the items at its keys and the length of each stream.
_lean: contextvars.ContextVar[bool] = contextvars.ContextVar("careloop_moto_lean_transact", default=False)


@dataclass
class _Backup:
    items: list[tuple[Any, Key, Any]]  # (table, key, a copy of the item there, or None)
    streams: list[tuple[Any, int]]  # (stream shard, its length before)


def _backup(backend: Any, transact_items: list) -> _Backup | None:
    """The items the transaction names, copied; None when a key cannot be read (moto's own way then)."""
    import copy

    items: list[tuple[Any, Key, Any]] = []
    shards: dict[int, tuple[Any, int]] = {}
    try:
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue  # moto answers ResourceNotFound before it writes anything
            key = _key_of(table, op["Item"] if op_type == "Put" else op["Key"])
            if key is None:
                return None
            held = _item_at(table, key)
            items.append((table, key, None if held is None else copy.deepcopy(held)))
            shard = getattr(table, "stream_shard", None)
            if shard is not None:
                shards.setdefault(id(shard), (shard, len(shard.items)))
    except (AttributeError, KeyError, StopIteration, TypeError):
        return None
    return _Backup(items, list(shards.values()))


def _restore(backup: _Backup) -> None:
    """Put back what a failed transaction changed: each item as it was, no stream records for it."""
    for table, key, saved in reversed(backup.items):
        if table.range_key_attr:
            bucket = table.items.setdefault(key[0], {})
            if saved is None:
                bucket.pop(key[1], None)
                if not bucket:
                    table.items.pop(key[0], None)
            else:
                bucket[key[1]] = saved
        elif saved is None:
            table.items.pop(key[0], None)
        else:
            table.items[key[0]] = saved
        reindex(table, key)
    for shard, length in backup.streams:
        del shard.items[length:]


class _LeanCopy:
    """moto's DynamoDB models' `copy` module, except that inside a lean transaction a deep copy of
    a Table is the table itself (so moto's rollback puts back the same object: a no-op)."""

    def __init__(self, real: Any, table_cls: type) -> None:
        self._real, self._table_cls = real, table_cls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, x: Any, memo: Any = None) -> Any:
        if _lean.get() and isinstance(x, self._table_cls):
            return x
        return self._real.deepcopy(x, memo)


def _dropping_all(method: Callable) -> Callable:
    """PartiQL writes items through paths of its own: every table's lists are rebuilt afterwards."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            for table in list(self.tables.values()):
                invalidate(table)

    return wrapper


def _install_serializer(serializer_cls: Any) -> None:
    """moto writes each response by walking botocore's shapes member by member: an item's every
    string attribute ({"S": ...} or {"N": ...}) is tried against all ten AttributeValue members
    (and their snake_case spellings) to find the one it has. Those two, the bulk of every item,
    are written as that walk writes them (the member's serialized name, the string as it is);
    every other value (maps, lists, sets, binary, booleans) still takes the walk."""
    structure = serializer_cls._serialize_type_structure

    @functools.wraps(structure)
    def fast_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if _state["enabled"] and key and shape.name == "AttributeValue" and type(value) is dict and len(value) == 1:
            ((member, text),) = value.items()
            if member in ("S", "N") and type(text) is str and member in shape.members:
                name = shape.members[member].serialization.get("name", member)
                serialized[self.get_serialized_name(shape, key)] = {name: text}
                return
        structure(self, serialized, value, shape, key)

    serializer_cls._serialize_type_structure = fast_structure


def install() -> None:
    """Patch moto's DynamoDB models and its JSON response writer (once per process; the local
    stack's start calls it)."""
    if _state["installed"]:
        return
    import moto.dynamodb.models as dynamodb_models
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _install_table(Table)
    _install_backend(DynamoDBBackend)
    dynamodb_models.copy = _LeanCopy(dynamodb_models.copy, Table)  # type: ignore[assignment]
    _install_serializer(BaseJSONSerializer)
    _state["installed"] = True


@contextmanager
def moto_path() -> Iterator[None]:
    """Queries inside take moto's own (whole-table) path, and responses its own shape walk: what
    the tests compare the patched paths with."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before
