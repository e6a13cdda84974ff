"""What anyone can see: the front page, public round pages, language choice, health check."""
