"""The Python half of examples/arrow-worker.ts: pyarrow reads Node's table in
place, pandas aggregates it, and the result goes back as an Arrow block."""
import sys

import pyarrow as pa
import shmbridge

orders_name, result_name = sys.argv[1:3]

orders = shmbridge.table(orders_name)  # a pyarrow Table over Node's block, no copy
print(f"python: read {orders.num_rows} orders in place: {orders.schema.names}")

df = orders.to_pandas()
totals = (
    df.assign(revenue=df.amount * df.quantity)
    .groupby("city", as_index=False)
    .agg(revenue=("revenue", "sum"), items=("quantity", "sum"))
    .sort_values("revenue", ascending=False)
)
print(f"python: pandas aggregated {len(totals)} cities")

# track=False: this process exits now and hands the block to Node, which unlinks it.
shmbridge.share_table(pa.Table.from_pandas(totals, preserve_index=False), name=result_name, track=False)
del orders
