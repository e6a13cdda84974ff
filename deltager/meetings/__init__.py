"""Meetings: the information meeting, "get help with your application" meetings, voting meetings."""
