"""The streaming service: embedded broker, Kafka topics, Faust agents, metrics, the CLI root."""
