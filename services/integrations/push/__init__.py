"""Pushing an approved plan to Jira: the one search (survey), the creates, and the attempt that carries it out."""

from services.integrations.push.run import Checkpoint, Progress, Push, known_issues

__all__ = ["Checkpoint", "Progress", "Push", "known_issues"]
