"""Hub reports: the 统计表, coverage, KPIs, volunteer hours, attendance sheets, CSV; the rollups they read."""
