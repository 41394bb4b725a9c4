"""Everything that turns an ad into predictions, usable without Kafka."""
