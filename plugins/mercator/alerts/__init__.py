"""KPI alerts: anomalies in marts.kpi_daily (detector), their episodes (episodes), delivery (delivery)."""
