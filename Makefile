# Shortcuts; the README's two commands (scripts/run, scripts/test) do the same set-up.
.PHONY: run test bench bench-micro bench-dashboards bench-auth

run:
	./scripts/run

test:
	./scripts/test

# The whole-system benchmark: ceilings, pipeline, latencies; table and JSON (bench/results/).
bench:
	./bench/run

# Micro-benchmarks of the hot-path pieces (decode, encode, score), release build.
bench-micro:
	./bench/micro

# The Grafana dashboards' InfluxQL queries over 24 h of 100 devices (own influxd); table and JSON.
bench-dashboards:
	./bench/dashboard_queries

# What authentication costs per request and its effect on POST /publish (auth on vs off).
bench-auth:
	./bench/auth_cost
