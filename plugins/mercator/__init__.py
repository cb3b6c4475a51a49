"""Mercator: marketing data pipeline (Airflow, dbt, DuckDB, Great Expectations)."""
