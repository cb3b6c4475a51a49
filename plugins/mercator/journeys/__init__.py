"""Triggered journeys: YAML files under dbt_project/journeys/ (docs/journeys.md), evaluated once a day.

`spec` parses and validates a journey, `entries` decides who enters, `engine` moves every instance
through its steps and sends through activation's destinations, `state` holds the tables.
"""
