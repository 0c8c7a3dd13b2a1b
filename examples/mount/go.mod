module github.com/ml-production-service/classify/examples/mount

go 1.26.8

require (
	github.com/ml-production-service/classify v0.0.0-00010101000000-000000000000
	github.com/ml-production-service/classify/classifyhttp v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.25.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dmitryikh/leaves v0.0.0-20230708180554-25d19a787328 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The library and the HTTP package in this repository, not published
// versions: the example shows the code beside it.
replace (
	github.com/ml-production-service/classify => ../../
	github.com/ml-production-service/classify/classifyhttp => ../../classifyhttp
)
