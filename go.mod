module github.com/ml-production-service/classify

go 1.26.8

require github.com/stretchr/testify v1.12.1

require (
	github.com/dmitryikh/leaves v0.0.0-20230708180554-25d19a787328 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
