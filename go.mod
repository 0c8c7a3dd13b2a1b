module github.com/ml-production-service/classify

go 1.24

require (
	github.com/dmitryikh/leaves v0.0.0-20230708180554-25d19a787328
	github.com/stretchr/testify v1.12.1
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
