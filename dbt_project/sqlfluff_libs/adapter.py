"""Stand-in for dbt's `adapter` object when sqlfluff renders models: `adapter.quote` as DuckDB quotes."""


def quote(identifier):
    return f'"{identifier}"'
