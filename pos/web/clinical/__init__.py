"""The clinical desk: treatments with their screening, recalls, bills of materials."""
