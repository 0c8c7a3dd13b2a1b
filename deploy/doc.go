// Package deploy holds no code: it is the home of the deployment files'
// tests. The Dockerfile and .dockerignore sit at the repository root and
// the Kubernetes manifests in deploy/kubernetes; no container engine or
// cluster runs where the tests run, so they check what can be checked
// without one:
//
//   - dockerfile_test.go builds the server the way the Dockerfile does (its
//     RUN line's command, flags and environment, from only the files its COPY
//     lines copy, minus .dockerignore), checks that the binary is static, starts
//     it and GETs /health; EXPOSE, ENV and HEALTHCHECK must agree with the
//     server's own default port and flags.
//   - kubernetes_test.go parses the manifests and checks that container ports,
//     probe paths and environment variable names are ones the real server
//     listens on, serves and reads, starting it with each container's
//     environment.
//   - kserve_test.go checks deploy/kserve/ (a ServingRuntime and two
//     InferenceServices) against the field names of KServe's types
//     (testdata/kserve-fields.json, an excerpt with its source), the
//     protocol versions and model format they declare, and the server: the
//     ports named http1 and h2c are the ones it listens on for REST and
//     gRPC, every variable is one it reads, a storageUri comes with
//     MPS_MODEL_PATH at KServe's mount path, and the binary started with the
//     runtime's variables answers the probes and speaks HTTP/2 on h2c.
package deploy
