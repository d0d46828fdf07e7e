"""Data in and out in bulk: bundles, backups, the bulk import and the analysis extract."""
