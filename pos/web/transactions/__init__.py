"""The transactions desk: every sale, searchable, each opening its sale page."""
