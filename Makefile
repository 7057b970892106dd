# Shortcuts; the README's two commands (scripts/run, scripts/test) do the same set-up.
.PHONY: run test bench bench-micro

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
