"""The local stack's index-aware Query for moto (careloop_local.motoindex) answers exactly what
moto's own whole-table path answers, written exactly as moto's own response writer writes it: over real boto3 calls to the local stack's moto server, a
mixed table (items with and without each index key, keys changed, removed and deleted through
PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems, rolled-back transactions
and failed conditions among them) is queried every way the adapters do and more: table and GSI,
range conditions, descending, filters, projections, Limit pages followed to the end. Each answer
is compared, page by page, with the same query on moto's path."""

from __future__ import annotations

import random
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from careloop_local import motoindex

A_VALUES = ["a1", "a2", "a3", "a4"]
B_VALUES = ["b1", "b2", "b3"]
PKS = [f"P{i}" for i in range(12)]


@pytest.fixture(scope="module")
def ddb():
    from careloop_local.runtime import _atomic_dynamo_moto_server

    server = _atomic_dynamo_moto_server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_table(
        TableName="mixed", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "a", "s", "b")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_a", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}]},
            {"IndexName": "by_b", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}]},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.create_table(
        TableName="flat", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("id", "a", "s")],
        GlobalSecondaryIndexes=[{"IndexName": "by_a", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"},
                                               {"AttributeName": "s", "KeyType": "RANGE"}]}])
    yield client
    server.stop()


def item(rng: random.Random, pk: str, sk: str) -> dict:
    """An item that may or may not carry each index key (a sparse index leaves it out)."""
    out = {"pk": {"S": pk}, "sk": {"S": sk}, "c": {"N": str(rng.randint(0, 9))}, "pad": {"S": "x" * rng.randint(0, 50)},
           "m": {"M": {"x": {"S": "é"}, "n": {"N": "-1.5"}, "l": {"L": [{"S": ""}, {"BOOL": False}, {"NULL": True}]}}},
           "ss": {"SS": ["a", "b"]}, "bin": {"B": b"\x00\xff"}, "ok": {"BOOL": rng.random() < 0.5}}
    if rng.random() < 0.7:
        out["a"] = {"S": rng.choice(A_VALUES)}
        if rng.random() < 0.85:  # an item with a but no s is not in by_a
            out["s"] = {"S": f"2026-01-{rng.randint(1, 28):02d}"}
    if rng.random() < 0.5:
        out["b"] = {"S": rng.choice(B_VALUES)}
    return out


def mutate(ddb, rng: random.Random, step: int) -> None:
    """One write of the kinds the adapters make, a failing one now and then."""
    pk, sk = rng.choice(PKS), f"S{rng.randint(0, 7)}"
    kind = rng.choice(["put", "put", "update", "remove", "delete", "batch", "transact", "cond", "flat"])
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    try:
        if kind == "put":
            ddb.put_item(TableName="mixed", Item=item(rng, pk, sk))
        elif kind == "update":
            ddb.update_item(TableName="mixed", Key=key, UpdateExpression="SET a = :a, s = :s, c = :c",
                            ExpressionAttributeValues={":a": {"S": rng.choice(A_VALUES)},
                                                       ":s": {"S": f"2026-02-{rng.randint(1, 28):02d}"},
                                                       ":c": {"N": str(step % 10)}})
        elif kind == "remove":
            ddb.update_item(TableName="mixed", Key=key, UpdateExpression=rng.choice(["REMOVE a", "REMOVE b", "REMOVE s"]),
                            ConditionExpression="attribute_exists(pk)")
        elif kind == "delete":
            ddb.delete_item(TableName="mixed", Key=key)
        elif kind == "batch":
            requests = []
            for n in rng.sample(range(8), 4):
                if rng.random() < 0.7:
                    requests.append({"PutRequest": {"Item": item(rng, pk, f"S{n}")}})
                else:
                    requests.append({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": f"S{n}"}}}})
            ddb.batch_write_item(RequestItems={"mixed": requests})
        elif kind == "transact":  # a third of them fail their condition and roll back
            other = {"pk": {"S": rng.choice(PKS)}, "sk": {"S": "T0"}}
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "mixed", "Item": item(rng, pk, sk)}},
                {"Update": {"TableName": "mixed", "Key": other, "UpdateExpression": "SET b = :b",
                            "ExpressionAttributeValues": {":b": {"S": rng.choice(B_VALUES)}}}},
                {"ConditionCheck": {"TableName": "mixed", "Key": {"pk": {"S": pk}, "sk": {"S": f"{sk}x"}},
                                    "ConditionExpression": "attribute_not_exists(pk)" if rng.random() < 0.66
                                    else "attribute_exists(pk)"}},
            ])
        elif kind == "cond":
            ddb.put_item(TableName="mixed", Item=item(rng, pk, sk), ConditionExpression="attribute_not_exists(pk)")
        else:
            ddb.put_item(TableName="flat", Item={k: v for k, v in item(rng, pk + sk, "").items() if k != "sk"}
                         | {"id": {"S": f"{pk}{sk}"}})
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException"), (
            kind, exc.response["Error"])


def queries(rng: random.Random) -> list[dict]:
    """Queries as the adapters send them, and the corners moto's query code has."""
    a, b, pk = rng.choice(A_VALUES), rng.choice(B_VALUES), rng.choice(PKS)
    values = {":a": {"S": a}, ":lo": {"S": "2026-01-10"}, ":hi": {"S": "2026-02-15"}}
    return [
        {"TableName": "mixed", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}},
        {"TableName": "mixed", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "Limit": 2,
         "ScanIndexForward": False, "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "S"}}},
        {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a",
         "ExpressionAttributeValues": {":a": {"S": a}}},
        {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a AND s BETWEEN :lo AND :hi",
         "ExpressionAttributeValues": values, "Limit": 3},
        {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a AND s <= :hi",
         "ScanIndexForward": False, "Limit": 4, "FilterExpression": "c > :c",
         "ExpressionAttributeValues": {":a": {"S": a}, ":hi": {"S": "2026-02-15"}, ":c": {"N": "3"}}},
        {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "#a = :a",
         "ExpressionAttributeNames": {"#a": "a", "#s": "s"}, "ProjectionExpression": "pk, #s, c",
         "ExpressionAttributeValues": {":a": {"S": a}}, "Limit": 5},
        {"TableName": "mixed", "IndexName": "by_b", "KeyConditionExpression": "b = :b",
         "ExpressionAttributeValues": {":b": {"S": b}}, "Limit": 3},
        {"TableName": "mixed", "IndexName": "by_b", "KeyConditionExpression": "b = :b", "Select": "COUNT",
         "ExpressionAttributeValues": {":b": {"S": b}}},
        {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a",
         "ExpressionAttributeValues": {":a": {"S": "nobody"}}},
        {"TableName": "flat", "KeyConditionExpression": "id = :i", "ExpressionAttributeValues": {":i": {"S": pk + "S1"}}},
        {"TableName": "flat", "IndexName": "by_a", "KeyConditionExpression": "a = :a AND s > :lo", "Limit": 2,
         "ExpressionAttributeValues": {":a": {"S": a}, ":lo": {"S": "2026-01-10"}}},
    ]


def pages(ddb, query: dict) -> list[dict]:
    """Every page of a query, following LastEvaluatedKey (each page without its metadata)."""
    out, start = [], None
    for _ in range(200):
        got = ddb.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        got.pop("ResponseMetadata")
        out.append(got)
        start = got.get("LastEvaluatedKey")
        if not start:
            return out
    raise AssertionError(f"no end to the pages of {query}")


def answer_both_ways(ddb, query: dict) -> tuple[list[dict], list[dict]]:
    indexed = pages(ddb, query)
    with motoindex.moto_path():
        walked = pages(ddb, query)
    return indexed, walked


def test_index_queries_answer_as_moto_does_through_every_kind_of_write(ddb):
    rng = random.Random(15)
    compared = nonempty = 0
    for step in range(200):
        mutate(ddb, rng, step)
        if step % 10 == 9:
            for query in queries(rng):
                indexed, walked = answer_both_ways(ddb, query)
                assert indexed == walked, (step, query)
                compared += 1
                nonempty += any(p.get("Count") for p in indexed)
    assert compared == 220 and nonempty > 120  # the comparisons were of real answers, not empty ones


def test_the_index_path_is_the_one_taken(ddb):
    """The comparisons above were not both moto's path: the table's posting lists exist and
    list exactly the items that carry each index key."""
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"]["us-east-1"].tables["mixed"]
    lists = motoindex.postings(table)
    assert lists is not None and getattr(table, motoindex.ATTR) is lists
    for attr in ("a", "b"):
        held = {k for keys in lists.by_value.get(attr, {}).values() for k in keys}
        carrying = {(i.hash_key, i.range_key) for i in table.all_items() if attr in i.attrs}
        assert held == carrying and held


def test_lists_survive_a_rolled_back_transaction_and_a_partiql_write(ddb):
    ddb.put_item(TableName="mixed", Item={"pk": {"S": "R"}, "sk": {"S": "1"}, "a": {"S": "ra"}, "s": {"S": "x"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "mixed", "Item": {"pk": {"S": "R"}, "sk": {"S": "2"}, "a": {"S": "ra"}, "s": {"S": "y"}}}},
            {"ConditionCheck": {"TableName": "mixed", "Key": {"pk": {"S": "R"}, "sk": {"S": "3"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
    ddb.execute_statement(Statement="UPDATE \"mixed\" SET a = 'rb' WHERE pk = 'R' AND sk = '1'")
    for a in ("ra", "rb"):
        query = {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a",
                 "ExpressionAttributeValues": {":a": {"S": a}}}
        indexed, walked = answer_both_ways(ddb, query)
        assert indexed == walked
    assert [i["sk"]["S"] for i in indexed[0]["Items"]] == ["1"]


def _state_of(ddb, pk: str) -> tuple[list, int]:
    """The items of one partition of "mixed" and how many records its stream holds."""
    from moto.dynamodb.models import dynamodb_backends

    items = ddb.query(TableName="mixed", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": pk}}, ConsistentRead=True)["Items"]
    shard = dynamodb_backends["123456789012"]["us-east-1"].tables["mixed"].stream_shard
    return items, len(shard.items)


@pytest.mark.parametrize("lean", [True, False])
def test_a_failed_transaction_leaves_what_moto_own_rollback_leaves(ddb, lean):
    # Given two items, then a transaction that puts a third, updates one, deletes the other, and
    # fails its last condition: it must leave the partition, the index and the stream as they were
    pk = f"TX{int(lean)}"
    for sk, a in (("1", "ta"), ("2", "tb")):
        ddb.put_item(TableName="mixed", Item={"pk": {"S": pk}, "sk": {"S": sk}, "a": {"S": a}, "s": {"S": sk}})
    before = _state_of(ddb, pk)
    ops = [
        {"Put": {"TableName": "mixed", "Item": {"pk": {"S": pk}, "sk": {"S": "3"}, "a": {"S": "ta"}, "s": {"S": "3"}}}},
        {"Update": {"TableName": "mixed", "Key": {"pk": {"S": pk}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET a = :b", "ExpressionAttributeValues": {":b": {"S": "tz"}}}},
        {"Delete": {"TableName": "mixed", "Key": {"pk": {"S": pk}, "sk": {"S": "2"}}}},
        {"ConditionCheck": {"TableName": "mixed", "Key": {"pk": {"S": pk}, "sk": {"S": "9"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ]
    with motoindex.moto_path() if not lean else _nothing(), pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(TransactItems=ops)
    assert _state_of(ddb, pk) == before
    for a, want in (("ta", ["1"]), ("tb", ["2"]), ("tz", [])):
        query = {"TableName": "mixed", "IndexName": "by_a", "KeyConditionExpression": "a = :a",
                 "ExpressionAttributeValues": {":a": {"S": a}}}
        indexed, walked = answer_both_ways(ddb, query)
        assert indexed == walked and [i["sk"]["S"] for i in indexed[0]["Items"] if i["pk"]["S"] == pk] == want
    # and the same transaction without its failing check goes through whole
    ddb.transact_write_items(TransactItems=ops[:3])
    items, _ = _state_of(ddb, pk)
    assert sorted((i["sk"]["S"], i["a"]["S"]) for i in items) == [("1", "tz"), ("3", "ta")]


@contextmanager
def _nothing():
    yield
