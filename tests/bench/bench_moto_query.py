"""`make bench`: one GSI Query on the local stack's moto server as its table grows, through the
index-aware path (careloop_local.motoindex) and through moto's own whole-table walk. Real boto3
calls to the server; median of 20 queries, each answering the same 5 items. Printed, never asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZES = (1_000, 5_000, 20_000)


def main() -> None:
    import logging

    import boto3

    from careloop_local import motoindex
    from careloop_local.runtime import _atomic_dynamo_moto_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = _atomic_dynamo_moto_server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ddb = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    ddb.create_table(
        TableName="grow", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "phone")],
        GlobalSecondaryIndexes=[{"IndexName": "by_phone", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "phone", "KeyType": "HASH"},
                                               {"AttributeName": "pk", "KeyType": "RANGE"}]}])
    print("moto GSI Query on the local stack (5 matching items; median of 20, ms)")
    print(f"  {'items':>8} {'index-aware':>12} {'moto walk':>10}")
    written = 0
    try:
        for size in SIZES:
            while written < size:
                ddb.batch_write_item(RequestItems={"grow": [
                    {"PutRequest": {"Item": {"pk": {"S": f"PAT#{i}"}, "sk": {"S": "A"}, "first_name": {"S": "Bench"},
                                             "phone": {"S": f"+1617{i // 5:07d}"}}}}
                    for i in range(written, written + 25)]})
                written += 25
            query = {"TableName": "grow", "IndexName": "by_phone", "KeyConditionExpression": "phone = :p",
                     "ExpressionAttributeValues": {":p": {"S": "+16170000007"}}}
            times = {}
            for label, path in (("index", None), ("walk", motoindex.moto_path)):
                samples = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    if path is None:
                        ddb.query(**query)
                    else:
                        with path():
                            ddb.query(**query)
                    samples.append((time.perf_counter() - t0) * 1000)
                times[label] = statistics.median(samples)
            print(f"  {size:>8,} {times['index']:>12.1f} {times['walk']:>10.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
