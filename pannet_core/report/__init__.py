"""What an analysis writes: results.json, the CSV/XLSX tables and the export bundle."""
