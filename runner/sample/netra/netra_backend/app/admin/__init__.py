"""Operator tools: sync commands, cron jobs."""
