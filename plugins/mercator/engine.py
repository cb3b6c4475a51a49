"""The engine the Python models read their small inputs from and write their outputs to.

`open_engine(settings)` gives a DuckDB engine (the warehouse file) or a Spark engine (a session on the
warehouse's metastore, mercator.spark), after settings.engine. Both offer the same two operations:
`read_frame(sql)`, a query's rows as a pandas frame, and `write_frames(tables)`, which replaces tables
with frames, each column cast to a type of COLUMN_TYPES. The CLV and attribution steps use nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

import pandas as pd

from mercator.config import Settings

COLUMN_TYPES = ("string", "double", "bigint", "date")

# A table to write: its frame and the type of each of its columns (in the table's column order).
Output = tuple[pd.DataFrame, Mapping[str, str]]


class Engine(Protocol):
    def read_frame(self, sql: str) -> pd.DataFrame: ...

    def write_frames(self, tables: Mapping[str, Output]) -> None: ...


def _select(frame: str, types: Mapping[str, str]) -> str:
    return ", ".join(f"cast({column} as {kind}) as {column}" for column, kind in types.items()) + f" from {frame}"


def _schemas(tables: Mapping[str, Output]) -> set[str]:
    return {table.split(".")[0] for table in tables}


class DuckDBEngine:
    """The DuckDB warehouse: frames registered as views; every table replaced in one transaction."""

    def __init__(self, con) -> None:
        self.con = con

    def read_frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def write_frames(self, tables: Mapping[str, Output]) -> None:
        views = {table: f"frame_{i}" for i, table in enumerate(tables)}
        for table, (frame, types) in tables.items():
            self.con.register(views[table], frame[list(types)])
        self.con.execute("begin transaction")
        try:
            for schema in _schemas(tables):
                self.con.execute(f"create schema if not exists {schema}")
            for table, (_, types) in tables.items():
                self.con.execute(f"create or replace table {table} as select {_select(views[table], types)}")
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise
        finally:
            for view in views.values():
                self.con.unregister(view)


class SparkEngine:
    """Spark: rows collected into pandas with DuckDB's dtypes for the same SQL types (integers int64,
    fractions and decimals float64, dates and timestamps datetime64); frames written as Parquet tables
    (values passed as text, then cast: floats keep every bit through repr). Spark tables have no
    transaction: the tables are replaced one after the other."""

    def __init__(self, spark) -> None:
        self.spark = spark

    def read_frame(self, sql: str) -> pd.DataFrame:
        result = self.spark.sql(sql)
        rows = result.collect()
        return pd.DataFrame(
            {f.name: _series([row[i] for row in rows], f.dataType) for i, f in enumerate(result.schema.fields)}
        )

    def write_frames(self, tables: Mapping[str, Output]) -> None:
        from pyspark.sql.types import StringType, StructField, StructType

        for schema in _schemas(tables):
            self.spark.sql(f"create database if not exists {schema}")
        for i, (table, (frame, types)) in enumerate(tables.items()):
            schema = StructType([StructField(column, StringType()) for column in types])
            rows = [tuple(_text(v) for v in row) for row in frame[list(types)].itertuples(index=False)]
            view = f"frame_{i}"
            self.spark.createDataFrame(rows, schema).createOrReplaceTempView(view)
            self.spark.sql(f"drop table if exists {table}")
            self.spark.sql(f"create table {table} using parquet as select {_select(view, types)}")
            self.spark.catalog.dropTempView(view)


def _text(value) -> str | None:
    """A value as text that Spark casts back to it exactly; null for None and NaN (as DuckDB reads them)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _series(values: list, data_type) -> pd.Series:
    from pyspark.sql import types

    if isinstance(data_type, types.IntegralType):
        return pd.Series(values, dtype="int64" if None not in values else "Int64")
    if isinstance(data_type, types.FractionalType):
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    if isinstance(data_type, (types.DateType, types.TimestampType, types.TimestampNTZType)):
        return pd.Series(pd.to_datetime(values), dtype="datetime64[us]")
    if isinstance(data_type, types.StringType):
        return pd.Series(values, dtype="str")
    return pd.Series(values, dtype="object")


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """The run's engine (settings.engine), closed on exit: a DuckDB connection waits for the write lock;
    a Spark session holds the metastore until it stops."""
    if settings.engine == "spark":
        from mercator.spark import spark_session

        with spark_session(settings) as spark:
            yield SparkEngine(spark)
        return
    from mercator.warehouse import connect

    con = connect(settings.warehouse)
    try:
        yield DuckDBEngine(con)
    finally:
        con.close()
