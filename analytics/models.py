"""Analytics models arrive with the analytics issue (events and daily rollups)."""
