"""Reading CSV files: sniffing the dialect and encoding, the parse engines, Parquet output, pages and safe
CSV export."""
