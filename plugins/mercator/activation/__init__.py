"""Activation: audiences (dbt models under models/audiences/) synced to their destinations.

`runner` discovers and checks the audiences, `plan` decides per member in SQL, `sync` sends in
batches and records, `destination` is the plugin contract, one module per destination.
"""
