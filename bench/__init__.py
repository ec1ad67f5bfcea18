"""Benchmarks: evacuate measured side by side with what a sysadmin would use instead."""
